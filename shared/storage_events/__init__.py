"""Storage events: STAC item blobs announced by Azure Storage through Event Grid become items."""
