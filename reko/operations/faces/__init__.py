"""DetectFaces and, later, CompareFaces, collections and users."""
