"""Thin wrappers around AWS clients that speak the pipeline's types and exceptions."""
