"""The bottom layer: errors, names, images, threads and the torch-free types and geometry
every layer shares."""
