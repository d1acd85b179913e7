"""espnet_ser.encoders."""
