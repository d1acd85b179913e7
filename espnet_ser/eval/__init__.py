"""espnet_ser.eval."""
