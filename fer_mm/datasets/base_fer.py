# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import logging
import os.path as osp
from typing import Any, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset

from .categories import label_mapping
from .fingerprint import dataset_fingerprint, describe

#: The file fer_mm.testing.synthetic writes at the root of a generated tree.
SYNTHETIC_MARKER = 'fer_mm_synthetic.json'


class ImageLoadError(RuntimeError):
    """An image of a dataset could not be read or transformed."""


def describe_image_failure(path: str, err: BaseException) -> str:
    """What went wrong with ``path``: missing, empty, or undecodable."""
    if not osp.exists(path):
        what = 'does not exist'
    elif osp.getsize(path) == 0:
        what = 'is empty (0 bytes)'
    else:
        what = 'could not be decoded or transformed'
    return f'image {path} {what}: {type(err).__name__}: {err}'


class FERDataset(BaseDataset):
    """Base class of fer_mm's expression datasets: explicit class mapping.

    A subclass reads labels in its dataset's native order
    (``METAINFO['classes']``). With ``target_classes`` the labels are mapped
    *by canonical name* onto another vocabulary (e.g. LSD's 6 classes onto
    Aff-Wild2's 8 for cross-dataset evaluation); the dataset's ``classes``
    become ``target_classes``. A sample whose class has no counterpart is an
    error unless ``drop_unmapped=True``, in which case the dropped count per
    class is logged. Soft labels (``gt_score``) are mapped column-wise; the
    mass of unmapped classes is removed and the rest renormalised.

    Args:
        target_classes (Sequence[str], optional): Vocabulary to map labels
            onto. Defaults to None (native classes).
        drop_unmapped (bool): Drop samples whose class is not in
            ``target_classes`` instead of raising. Defaults to False.
        check_official (bool): On build, compare the tree with the published
            split (:mod:`fer_mm.datasets.fingerprint`), log one line saying
            whether it matches, and keep the result as :attr:`fingerprint`.
            Defaults to True.
        **kwargs: Arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(
        self,
        *args,
        target_classes: Optional[Sequence[str]] = None,
        drop_unmapped: bool = False,
        check_official: bool = True,
        **kwargs,
    ):
        self.check_official = check_official
        self.fingerprint: Optional[dict] = None
        self.native_classes = tuple(
            (kwargs.get('metainfo') or {}).get('classes')
            or self.METAINFO['classes']
        )
        self.target_classes = (
            tuple(target_classes) if target_classes is not None else None
        )
        self.drop_unmapped = drop_unmapped
        if self.target_classes is not None:
            self.label_map = label_mapping(
                self.native_classes, self.target_classes
            )
            kwargs['metainfo'] = dict(
                kwargs.get('metainfo') or {}, classes=self.target_classes
            )
        else:
            self.label_map = None
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------ fingerprint
    def official_spec(self) -> Optional[dict]:
        """The published counts of this split (:func:`~fer_mm.datasets.
        fingerprint.official`), or None where none are published; then
        :attr:`NO_OFFICIAL` says why."""
        return None

    #: Logged when :meth:`official_spec` has nothing to compare with.
    NO_OFFICIAL = 'no published counts to compare with'

    def fingerprint_name(self) -> str:
        """How the log line names this dataset."""
        split = getattr(self, 'split', None)
        return type(self).__name__ + (f' {split}' if split else '')

    def full_init(self) -> None:
        """Load the annotations, then report the fingerprint."""
        if self._fully_initialized:
            return
        super().full_init()
        self.report_fingerprint()

    def get_subset(self, indices):
        """A subset; its :attr:`fingerprint` is not its parent's."""
        sub = super().get_subset(indices)
        sub.fingerprint = None
        return sub

    def report_fingerprint(self) -> Optional[dict]:
        """Measure the built tree, compare it with the published split and
        log one line (a warning where they differ)."""
        if not self.check_official:
            return None
        spec, reason = None, self.NO_OFFICIAL
        root = getattr(self, 'data_root', None) or ''
        if osp.isfile(osp.join(root, SYNTHETIC_MARKER)):
            reason = (
                f"fer_mm's synthetic set ({SYNTHETIC_MARKER} in data_root), "
                'not compared with the official split'
            )
        elif self.label_map is not None:
            reason = 'not compared: target_classes remaps the labels'
        elif self._indices is not None:
            reason = 'not compared: indices select a subset'
        else:
            spec = self.official_spec()
        fp = dataset_fingerprint(self, spec)
        if spec is None:
            fp['no_official'] = reason
        line, warn = describe(fp, self.fingerprint_name())
        logger = MMLogger.get_current_instance()
        logger.log(logging.WARNING if warn else logging.INFO, line)
        self.fingerprint = fp
        return fp

    def prepare_data(self, idx) -> Any:
        """Run the pipeline; a failure names the sample's image file.

        OpenCV reports an empty or damaged file with a bare assertion
        (``!buf.empty()``); this re-raises it as :class:`ImageLoadError`
        with the path and what is wrong with it.
        """
        try:
            return super().prepare_data(idx)
        except Exception as err:  # noqa: BLE001 (re-raised with the file)
            path = self.get_data_info(idx).get('img_path')
            if path is None:
                raise
            raise ImageLoadError(
                f'{type(self).__name__}: sample {idx}: '
                + describe_image_failure(path, err)
            ) from err

    def _unmapped(self, native_label: int, where: str) -> None:
        raise ValueError(
            f'{type(self).__name__}: class '
            f'{self.native_classes[native_label]!r} ({where}) has no '
            f'counterpart in target_classes {list(self.target_classes)}; '
            'set drop_unmapped=True to drop such samples'
        )

    def filter_data(self) -> List[dict]:
        """Map labels onto ``target_classes`` (see the class docstring)."""
        data_list = super().filter_data()
        if self.label_map is None:
            return data_list
        kept, dropped = [], {}
        for info in data_list:
            label = int(info['gt_label'])
            new = int(self.label_map[label]) if label >= 0 else -1
            if 'gt_score' in info:
                score = np.asarray(info['gt_score'], dtype=np.float32)
                new_score = np.zeros(len(self.target_classes), np.float32)
                ok = self.label_map >= 0
                np.add.at(new_score, self.label_map[ok], score[ok])
                if new_score.sum() > 0:
                    info['gt_score'] = new_score / new_score.sum()
                    new = int(new_score.argmax())
            if new < 0:
                if not self.drop_unmapped:
                    self._unmapped(label, info.get('img_path', ''))
                name = self.native_classes[label]
                dropped[name] = dropped.get(name, 0) + 1
                continue
            info['gt_label'] = new
            kept.append(info)
        if dropped:
            MMLogger.get_current_instance().info(
                f'{type(self).__name__}: dropped samples without a class in '
                f'target_classes: {dropped}'
            )
        return kept
