"""``minidl.vision``: reading printed or handwritten letters on a page (the course's OCR exercise).

* :func:`find_letters`: ``image -> (boxes, line_ids, crops)``, the segmentation pipeline on scikit-image;
* :func:`square_crop`: how a letter is framed for the classifier (shared with the character generator);
* :func:`read_text`: segmentation, classification and text assembly; :func:`ready_model`: the cached,
  ready-trained character classifier;
* :func:`edit_distance`, :func:`char_accuracy`, :func:`match_boxes`: scoring OCR results.

Needs the ``ocr`` extra (``pip install "minidl[ocr]"``: scikit-image, SciPy, Pillow), imported when a
function runs. The command line: ``minidl ocr IMAGE... [--model RUN_DIR] [--annotate OUT.png]``.
"""

from .letters import CROP_SIZE, find_letters, square_crop, word_starts
from .metrics import box_iou, char_accuracy, edit_distance, match_boxes
from .ocr import OCRResult, classify_crops, read_text, ready_model, ready_model_dir

__all__ = [
    "find_letters", "square_crop", "word_starts", "CROP_SIZE", "read_text", "classify_crops", "ready_model",
    "ready_model_dir", "OCRResult", "edit_distance", "char_accuracy", "box_iou", "match_boxes",
]  # fmt: skip
