"""``minidl.vision``: reading printed or handwritten letters on a page (the course's OCR exercise).

* :func:`find_letters`: ``image -> (boxes, line_ids, crops)``, the segmentation pipeline on scikit-image;
* :func:`square_crop`: how a letter is framed for the classifier (shared with the character generator);
* :func:`edit_distance`, :func:`char_accuracy`, :func:`match_boxes`: scoring OCR results.

Needs the ``ocr`` extra (``pip install "minidl[ocr]"``: scikit-image, SciPy, Pillow), imported when a
function runs. Reading the text with a character classifier (a run directory) is
:func:`minidl.runs.read_text`, the cached ready classifier :func:`minidl.runs.ready_model`; the command line
is ``minidl ocr IMAGE... [--model RUN_DIR] [--annotate OUT.png]``.
"""

from .letters import CROP_SIZE, find_letters, square_crop, word_starts
from .metrics import box_iou, char_accuracy, edit_distance, match_boxes

__all__ = [
    "find_letters", "square_crop", "word_starts", "CROP_SIZE", "edit_distance", "char_accuracy", "box_iou",
    "match_boxes",
]  # fmt: skip
