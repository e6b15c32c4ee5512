"""Models behind DetectLabels: a COCO object detector with boxes and an ImageNet image classifier.

Arrays in, dataclasses and arrays out; names are the models' own (COCO's "person", ImageNet's "tabby, tabby
cat"). Turning them into Rekognition labels with parents and categories is the taxonomy's job, not this package's.
"""
