# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""What the inferencer reads: images, folders, video files and webcams."""

import os
import os.path as osp
from typing import Iterator, List, Optional, Tuple, Union

import cv2
import numpy as np

IMAGE_EXTENSIONS = (
    '.jpg',
    '.jpeg',
    '.png',
    '.bmp',
    '.webp',
    '.tif',
    '.tiff',
    '.ppm',
    '.pgm',
)
VIDEO_EXTENSIONS = (
    '.mp4',
    '.avi',
    '.mov',
    '.mkv',
    '.webm',
    '.m4v',
    '.mpg',
    '.mpeg',
    '.wmv',
)


def is_video(source) -> bool:
    """A webcam index or a file with a video extension."""
    if isinstance(source, (int, np.integer)):
        return True
    return isinstance(source, str) and source.lower().endswith(
        VIDEO_EXTENSIONS
    )


def read_image(path: str) -> np.ndarray:
    """Read an image as BGR uint8 (gray and alpha images converted).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: OpenCV cannot decode it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(
            f'cannot read image {path} (not an image OpenCV can decode)'
        )
    return img


_PNG_END = b'IEND\xaeB`\x82'


def image_file_problem(path: str) -> Optional[str]:
    """Why an image file that decodes may still be damaged, or None.

    OpenCV decodes a truncated JPEG (libjpeg fills the rest with grey and
    prints "Premature end of JPEG file" on stderr) and some truncated PNGs.
    A JPEG must end with its end-of-image marker ``FF D9`` (trailing zero
    padding allowed) and a PNG with its ``IEND`` chunk. Other formats are
    not checked. Reads 8 bytes at the start and 64 at the end.
    """
    with open(path, 'rb') as f:
        head = f.read(8)
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 64))
        tail = f.read().rstrip(b'\x00')
    if head[:2] == b'\xff\xd8' and not tail.endswith(b'\xff\xd9'):
        return (
            f'truncated JPEG: no end-of-image marker (FF D9) at the end of '
            f'its {size} bytes; the missing part is decoded as grey'
        )
    if head == b'\x89PNG\r\n\x1a\n' and not tail.endswith(_PNG_END):
        return f'truncated PNG: no IEND chunk at the end of its {size} bytes'
    return None


def as_bgr(img: np.ndarray, name: str = 'array') -> np.ndarray:
    """Check an array input (H, W, 3) BGR uint8; gray (H, W) is converted."""
    img = np.asarray(img)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f'{name}: expected an (H, W, 3) BGR image, got shape {img.shape}'
        )
    if img.dtype != np.uint8:
        raise ValueError(f'{name}: expected uint8 pixels, got {img.dtype}')
    return img


def list_folder(folder: str) -> Tuple[List[str], List[str]]:
    """The image files of a folder (sorted, not recursive) and the rest.

    Returns:
        tuple[list[str], list[str]]: Image paths and skipped file paths
        (not an image extension).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    images, skipped = [], []
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if not osp.isfile(path):
            continue
        (
            images if name.lower().endswith(IMAGE_EXTENSIONS) else skipped
        ).append(path)
    return images, skipped


class VideoSource:
    """Frames of a video file or a webcam, with a frame stride.

    Args:
        source (str | int): A video file or a webcam index.
        every (int): Keep every ``every``-th frame (0, N, 2N ...). Defaults
            to 1.
        max_frames (int, optional): Stop after this many frames of the
            file. Defaults to None.
        allow_early_end (bool): Accept a file that ends before its header's
            frame count. Defaults to False (raise).

    Raises:
        FileNotFoundError: A video file that does not exist.
        ValueError: A source OpenCV cannot open.
    """

    def __init__(
        self,
        source: Union[str, int],
        every: int = 1,
        max_frames: Optional[int] = None,
        allow_early_end: bool = False,
    ):
        if every < 1:
            raise ValueError(f'every must be >= 1, got {every}')
        self.webcam = isinstance(source, (int, np.integer))
        if not self.webcam and not osp.isfile(source):
            raise FileNotFoundError(f'video not found: {source}')
        self.cap = cv2.VideoCapture(int(source) if self.webcam else source)
        if not self.cap.isOpened():
            what = f'webcam {source}' if self.webcam else f'video {source}'
            raise ValueError(f'cannot open {what}')
        self.source = source
        self.every = every
        self.max_frames = max_frames
        self.allow_early_end = allow_early_end
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else 25.0
        count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = None if self.webcam or count <= 0 else count
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frames_read = 0

    @property
    def name(self) -> str:
        if self.webcam:
            return f'webcam{self.source}'
        return osp.splitext(osp.basename(self.source))[0]

    def expected_frames(self) -> Optional[int]:
        """Frames to be read (None for a webcam)."""
        if self.frame_count is None:
            return None
        if self.max_frames is not None:
            return min(self.frame_count, self.max_frames)
        return self.frame_count

    def __iter__(self) -> Iterator[Tuple[int, np.ndarray]]:
        """Yield ``(frame index, BGR frame)`` for every kept frame.

        Raises:
            ValueError: The file ended before its header's frame count (and
                ``allow_early_end`` is off).
        """
        expected = self.expected_frames()
        index = 0
        try:
            while self.max_frames is None or index < self.max_frames:
                if index % self.every:
                    ok = self.cap.grab()
                    frame = None
                else:
                    ok, frame = self.cap.read()
                if not ok:
                    break
                self.frames_read = index + 1
                if frame is not None:
                    yield index, frame
                index += 1
        finally:
            self.cap.release()
        if (
            expected is not None
            and index < expected
            and not self.allow_early_end
        ):
            raise ValueError(
                f'video {self.source} ended early: {index} of {expected} '
                'frames could be read (truncated or damaged file)'
            )
