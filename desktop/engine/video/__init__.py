"""Where frames come from: cameras, files, folders, streams; the feed thread and the
motion gate."""
