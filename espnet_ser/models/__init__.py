"""espnet_ser.models."""
