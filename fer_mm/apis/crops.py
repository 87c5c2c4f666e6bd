# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Writing the aligned face crops a classifier saw (``--save-crops``).

The names follow the dataset layouts of
``tools/dataset_converters/align_faces.py``, so saved crops can be read back
as training data: photos in RAF-DB's aligned style, video frames in
Aff-Wild2's ``cropped_aligned`` style.
"""

import os.path as osp
from typing import Callable, List, Optional

import cv2


def crop_name(source: str, frame: Optional[int], k: int) -> str:
    """The file name of face ``k``.

    Args:
        source (str): The image path, or the video's name (its stem).
        frame (int, optional): The 0-based frame index of a video frame.
        k (int): The face's index in the image / frame.

    Returns:
        str: ``<stem>_aligned.jpg`` (``<stem>_<k>_aligned.jpg`` for k > 0)
        for an image, ``<video>/00001.jpg`` (1-based frame number;
        ``<video>/00001_<k>.jpg``) for a frame.
    """
    if frame is None:
        stem = osp.splitext(osp.basename(str(source)))[0]
        return f'{stem}_aligned.jpg' if k == 0 else f'{stem}_{k}_aligned.jpg'
    number = f'{frame + 1:05d}'
    return f'{source}/{number}.jpg' if k == 0 else f'{source}/{number}_{k}.jpg'


def pop_and_write_crops(
    faces: List[dict], path_of: Callable[[int], str]
) -> List[str]:
    """Remove ``crop`` from each face and write it to ``path_of(k)``.

    Args:
        faces (list[dict]): Faces of ``FERInferencer(return_crops=True)``.
        path_of (Callable[[int], str]): Where face ``k`` goes.

    Returns:
        list[str]: The written paths.
    """
    written = []
    for k, face in enumerate(faces):
        crop = face.pop('crop', None)
        if crop is None:
            continue
        path = path_of(k)
        if not cv2.imwrite(path, crop):
            raise OSError(f'cannot write the face crop {path}')
        written.append(path)
    return written
