"""The image pipeline's function code: a pure core (imaging, records), adapters, thin handlers."""
