"""espnet_ser.bin."""
