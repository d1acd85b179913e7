"""espnet_ser.utils."""
