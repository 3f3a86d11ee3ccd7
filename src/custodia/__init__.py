"""Custodia: the National Detention Registry and the CNSSP's instruments."""

__version__ = "0.1.0"
