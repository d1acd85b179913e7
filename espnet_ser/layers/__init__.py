"""espnet_ser.layers."""
