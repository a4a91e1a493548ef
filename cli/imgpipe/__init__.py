"""imgpipe: upload photos to the image pipeline and manage the gallery from a terminal."""
