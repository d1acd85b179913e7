"""espnet_ser.tasks."""
