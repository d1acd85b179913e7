"""espnet_ser.features."""
