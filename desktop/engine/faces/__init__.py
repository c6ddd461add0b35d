"""The networks: detection, crops, quality, face models (embedders), anti-spoofing, and
the faces they produce."""
