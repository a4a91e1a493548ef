"""A function whose package forgets its dependency: Pillow is not in the zip."""

from PIL import Image


def handler(event, context):
    return {"pillow": Image.__name__}
