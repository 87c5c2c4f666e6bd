# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os.path as osp
from typing import List

from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .landmarks import attach_landmarks
from .rafdb import RAFDB


@DATASETS.register_module()
class RAFDBLandmarks(RAFDB):
    """RAF-DB with 68-point landmarks per image (for multi-task models).

    Reads RAF-DB exactly as :class:`fer_mm.datasets.RAFDB` and attaches
    ``gt_landmarks`` (68x2 pixels, iBUG-68 order) to each item from a
    landmark file (:func:`fer_mm.datasets.load_landmarks` format) whose names
    are image names under the image folder (``train_00001_aligned.jpg``), as
    the synthetic RAF-DB layout writes them::

        data_root/basic/Annotation/landmarks_68.txt

    Lines for the other split are ignored; a line for an image that does not
    exist is an error naming the file and the image.

    Args:
        data_root (str): The RAF-DB root.
        landmark_file (str): The landmark file; relative paths are under
            ``data_root``. Defaults to ``'basic/Annotation/landmarks_68.txt'``.
        missing_landmarks (str): ``'mask'`` (keep an image without a line,
            without ``gt_landmarks``: expression loss only) or ``'error'``.
            Defaults to ``'mask'``.
        **kwargs: Arguments of :class:`fer_mm.datasets.RAFDB`.

    Examples:
        >>> from fer_mm.datasets import RAFDBLandmarks
        >>> ds = RAFDBLandmarks('data/synthetic_rafdb', split='train')
        >>> ds[0]['data_samples'].gt_landmarks.shape  # with PackInputs
    """

    def __init__(
        self,
        data_root: str,
        landmark_file: str = 'basic/Annotation/landmarks_68.txt',
        missing_landmarks: str = 'mask',
        **kwargs,
    ):
        if not osp.isabs(landmark_file):
            landmark_file = osp.join(data_root, landmark_file)
        self.landmark_file = landmark_file
        self.missing_landmarks = missing_landmarks
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        num_missing = attach_landmarks(
            data_list,
            self.landmark_file,
            self.data_prefix['img_path'],
            missing=self.missing_landmarks,
            owner='RAFDBLandmarks',
        )
        MMLogger.get_current_instance().info(
            f'RAFDBLandmarks: landmarks from {self.landmark_file} for '
            f'{len(data_list) - num_missing} of {len(data_list)} images'
        )
        return data_list

    def extra_repr(self) -> List[str]:
        return super().extra_repr() + [
            f'Landmark file: \t{self.landmark_file}'
        ]
