"""The video side of the window: the view, its overlays, the source control and status."""
