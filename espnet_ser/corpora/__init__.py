"""espnet_ser.corpora."""
