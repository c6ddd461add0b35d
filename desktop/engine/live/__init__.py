"""The live loop: tracking faces over frames, liveness on tracks, the pipeline threads."""
