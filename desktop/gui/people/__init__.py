"""People in the window: the list, registration at the camera, enrollment from files,
consent."""
