'''The code the pull request adds to deepface, in deepface's style (black, 100 columns).

Written for this project; it names deepface's functions but holds none of deepface's code.
Snippets of methods are written at module level: libcst indents them into their class.
'''

# step 1: Detector.py ---------------------------------------------------------------------

DETECTOR_BATCH = '''\
def detect_faces_batch(self, imgs: List[NDArray[Any]]) -> List[List["FacialAreaRegion"]]:
    """
    Interface for detecting faces in a list of images

    The default calls detect_faces on each image. Detectors whose engine takes a batch
    override it, and must find the same faces as detect_faces finds image by image.

    Args:
        imgs (List[np.ndarray]): pre-loaded images as numpy arrays

    Returns:
        results (List[List[FacialAreaRegion]]): one list of FacialAreaRegion objects
            per image, in the order of the images
    """
    return [self.detect_faces(img) for img in imgs]
'''

GROUP_BY_SHAPE = '''\
def group_by_shape(imgs: List[NDArray[Any]]) -> List[List[int]]:
    """
    Group the indexes of images of the same shape, in order of first appearance.

    Engines that pad a batch to a common size can find other faces in padded images,
    so native detect_faces_batch implementations run one batch per shape.

    Args:
        imgs (List[np.ndarray]): pre-loaded images as numpy arrays

    Returns:
        groups (List[List[int]]): indexes into imgs, one list per distinct shape
    """
    groups: Dict[Tuple[int, ...], List[int]] = {}
    for index, img in enumerate(imgs):
        groups.setdefault(img.shape, []).append(index)
    return list(groups.values())
'''

# step 2: detection.py --------------------------------------------------------------------

EXTRACT_FACES_BATCH_CALL = """\
return _extract_faces_batch(
    img_paths=img_paths,
    detector_backend=detector_backend,
    enforce_detection=enforce_detection,
    align=align,
    expand_percentage=expand_percentage,
    grayscale=grayscale,
    color_face=color_face,
    normalize_face=normalize_face,
    anti_spoofing=anti_spoofing,
    max_faces=max_faces,
)
"""

FORMAT_FACES_CALL = """\
return _format_faces(
    img=img,
    img_name=img_name,
    face_objs=face_objs,
    enforce_detection=enforce_detection,
    grayscale=grayscale,
    color_face=color_face,
    normalize_face=normalize_face,
    anti_spoofing=anti_spoofing,
)
"""

FORMAT_FACES_HEADER = '''\
def _format_faces(
    img: NDArray[Any],
    img_name: Optional[str],
    face_objs: List[DetectedFace],
    enforce_detection: bool,
    grayscale: bool,
    color_face: str,
    normalize_face: bool,
    anti_spoofing: bool,
) -> List[Dict[str, Any]]:
    """
    Turn the faces detected in one loaded image into extract_faces' dictionaries
    """
'''

FORMAT_FACES_PRELUDE = """\
resp_objs: List[Dict[str, Any]] = []
height, width, _ = img.shape
base_region = FacialAreaRegion(x=0, y=0, w=width, h=height, confidence=0)
"""

EXTRACT_FACES_BATCH = '''\
def _extract_faces_batch(
    img_paths: List[Any],
    detector_backend: str,
    enforce_detection: bool,
    align: bool,
    expand_percentage: int,
    grayscale: bool,
    color_face: str,
    normalize_face: bool,
    anti_spoofing: bool,
    max_faces: Optional[int],
) -> List[List[Dict[str, Any]]]:
    """
    Extract faces from a list of images: load them all, detect faces in all of them with
    one call to detect_faces_batch, then build each image's result as extract_faces does.
    """
    imgs: List[NDArray[Any]] = []
    img_names: List[Optional[str]] = []
    for index, single_img_path in enumerate(img_paths):
        try:
            img, img_name = image_utils.load_image(single_img_path)
        except ValueError as err:
            raise type(err)(f"img_path[{index}]: {err}") from err
        if img is None:
            raise ValueError(f"Exception while loading img_path[{index}]: {img_name}")
        imgs.append(img)
        img_names.append(img_name)

    if detector_backend == "skip":
        face_objs_batch = [
            [
                DetectedFace(
                    img=img,
                    facial_area=FacialAreaRegion(
                        x=0, y=0, w=img.shape[1], h=img.shape[0], confidence=0
                    ),
                    confidence=0,
                )
            ]
            for img in imgs
        ]
    else:
        face_objs_batch = detect_faces_batch(
            detector_backend=detector_backend,
            imgs=imgs,
            align=align,
            expand_percentage=expand_percentage,
            max_faces=max_faces,
        )

    return [
        _format_faces(
            img=img,
            img_name=img_name,
            face_objs=face_objs,
            enforce_detection=enforce_detection,
            grayscale=grayscale,
            color_face=color_face,
            normalize_face=normalize_face,
            anti_spoofing=anti_spoofing,
        )
        for img, img_name, face_objs in zip(imgs, img_names, face_objs_batch)
    ]
'''

EXTRACT_DETECTED_CALL = """\
return _extract_detected_faces(
    facial_areas=facial_areas,
    img=img,
    align=align,
    expand_percentage=expand_percentage,
    width_border=width_border,
    height_border=height_border,
    detector_backend=detector_backend,
    max_faces=max_faces,
)
"""

EXTRACT_DETECTED_HEADER = '''\
def _extract_detected_faces(
    facial_areas: List[FacialAreaRegion],
    img: NDArray[Any],
    align: bool,
    expand_percentage: int,
    width_border: int,
    height_border: int,
    detector_backend: str,
    max_faces: Optional[int],
) -> List[DetectedFace]:
    """
    Keep the max_faces largest facial areas of one image and extract each face
    """
'''

DETECT_FACES_BATCH = '''\
def detect_faces_batch(
    detector_backend: str,
    imgs: List[NDArray[Any]],
    align: bool = True,
    expand_percentage: int = 0,
    max_faces: Optional[int] = None,
) -> List[List[DetectedFace]]:
    """
    Detect face(s) in a list of images with one call to the detector's detect_faces_batch
    Args:
        detector_backend (str): detector name

        imgs (List[np.ndarray]): pre-loaded images

        align (bool): enable or disable alignment after detection

        expand_percentage (int): expand detected facial area with a percentage (default is 0).

        max_faces (int): keep at most this many faces per image, the largest ones

    Returns:
        results (List[List[DetectedFace]]): for each image, what detect_faces returns for it
    """
    face_detector: Detector = modeling.build_model(
        task="face_detector", model_name=detector_backend
    )

    if expand_percentage < 0:
        logger.warn(
            f"Expand percentage cannot be negative but you set it to {expand_percentage}."
            "Overwritten it to 0."
        )
        expand_percentage = 0

    # the black border that detect_faces adds, image by image
    borders = [(int(0.5 * img.shape[0]), int(0.5 * img.shape[1])) for img in imgs]
    if align is True:
        imgs = [
            cv2.copyMakeBorder(
                img,
                height_border,
                height_border,
                width_border,
                width_border,
                cv2.BORDER_CONSTANT,
                value=[0, 0, 0],
            )
            for img, (height_border, width_border) in zip(imgs, borders)
        ]

    facial_areas_batch = face_detector.detect_faces_batch(imgs)

    return [
        _extract_detected_faces(
            facial_areas=facial_areas,
            img=img,
            align=align,
            expand_percentage=expand_percentage,
            width_border=width_border,
            height_border=height_border,
            detector_backend=detector_backend,
            max_faces=max_faces,
        )
        for facial_areas, img, (height_border, width_border) in zip(
            facial_areas_batch, imgs, borders
        )
    ]
'''

# step 3: Yolo.py -------------------------------------------------------------------------

YOLO_CALL = "return self._to_facial_areas(results)\n"

YOLO_HELPER_HEADER = '''\
def _to_facial_areas(self, results: Any) -> List[FacialAreaRegion]:
    """
    Turn ultralytics' results for one image into FacialAreaRegion objects
    """
'''

YOLO_BATCH = '''\
def detect_faces_batch(self, imgs: List[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
    """
    Detect and align faces in a list of images with one predict call per image shape

    ultralytics letterboxes a batch of one shape as it does a single image, but pads
    images of mixed shapes to a square, so images are grouped by shape.

    Args:
        imgs (List[np.ndarray]): pre-loaded images as numpy arrays

    Returns:
        results (List[List[FacialAreaRegion]]): one list of FacialAreaRegion objects per image
    """
    resp: List[List[FacialAreaRegion]] = [[] for _ in imgs]
    for indexes in group_by_shape(imgs):
        results = self.model.predict(
            [imgs[index] for index in indexes],
            verbose=False,
            show=False,
            conf=float(os.getenv("YOLO_MIN_DETECTION_CONFIDENCE", "0.25")),
        )
        for index, result in zip(indexes, results):
            resp[index] = self._to_facial_areas(result)
    return resp
'''

# step 4: MtCnn.py ------------------------------------------------------------------------

MTCNN_CALL = "return self._to_facial_areas(detections)\n"

MTCNN_HELPER_HEADER = '''\
def _to_facial_areas(self, detections: Any) -> List[FacialAreaRegion]:
    """
    Turn mtcnn's detections for one image into FacialAreaRegion objects
    """
'''

MTCNN_BATCH = '''\
def detect_faces_batch(self, imgs: List[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
    """
    Detect and align faces in a list of images with mtcnn's batch input

    mtcnn pads a batch to its largest image and builds one image pyramid for all, so
    images are grouped by shape: a batch of one shape finds what single images find.

    Args:
        imgs (List[np.ndarray]): pre-loaded images as numpy arrays

    Returns:
        results (List[List[FacialAreaRegion]]): one list of FacialAreaRegion objects per image
    """
    resp: List[List[FacialAreaRegion]] = [[] for _ in imgs]
    for indexes in group_by_shape(imgs):
        # mtcnn expects RGB but OpenCV read BGR
        imgs_rgb = [imgs[index][:, :, ::-1] for index in indexes]
        detections_batch = self.model.detect_faces(imgs_rgb)
        for index, detections in zip(indexes, detections_batch):
            resp[index] = self._to_facial_areas(detections)
    return resp
'''

# step 5: tests/unit/test_batched_detection.py -------------------------------------------

TESTS = '''\
# 3rd party dependencies
import cv2
import numpy as np
import pytest

# project dependencies
from deepface import DeepFace
from deepface.modules import modeling
from deepface.modules.exceptions import FaceNotDetected, ImgNotFound
from deepface.commons.logger import Logger

logger = Logger()

batch_detectors = ["opencv", "mtcnn", "yolov8n"]

# mixed sizes, one of them with two faces
img_paths = ["dataset/img1.jpg", "dataset/couple.jpg", "dataset/img11.jpg", "dataset/img3.jpg"]


def frames(count=3, width=640, height=480):
    """video-like frames of one shape, cut from the dataset's photos"""
    resp = []
    for img_path in img_paths[:count]:
        img = cv2.imread(img_path)
        resp.append(cv2.resize(img, (width, height)))
    return resp


def assert_same_faces(batch_objs, single_objs):
    assert len(batch_objs) == len(single_objs)
    for batch_obj, single_obj in zip(batch_objs, single_objs):
        assert batch_obj["facial_area"] == single_obj["facial_area"]
        assert abs(batch_obj["confidence"] - single_obj["confidence"]) <= 0.01
        assert batch_obj["face"].shape == single_obj["face"].shape
        assert np.allclose(batch_obj["face"], single_obj["face"], atol=1 / 255)


@pytest.mark.parametrize("detector", batch_detectors)
def test_batch_of_mixed_sizes_equals_single_images(detector):
    batch_objs = DeepFace.extract_faces(
        img_path=img_paths, detector_backend=detector, enforce_detection=False
    )
    assert len(batch_objs) == len(img_paths)
    for img_path, img_objs in zip(img_paths, batch_objs):
        single_objs = DeepFace.extract_faces(
            img_path=img_path, detector_backend=detector, enforce_detection=False
        )
        assert_same_faces(img_objs, single_objs)
    logger.info(f"✅ batch of mixed sizes equals single images for {detector}")


@pytest.mark.parametrize("detector", batch_detectors)
def test_batch_of_frames_equals_single_frames(detector):
    imgs = frames()
    batch_objs = DeepFace.extract_faces(
        img_path=np.stack(imgs), detector_backend=detector, enforce_detection=False
    )
    assert len(batch_objs) == len(imgs)
    for img, img_objs in zip(imgs, batch_objs):
        single_objs = DeepFace.extract_faces(
            img_path=img, detector_backend=detector, enforce_detection=False
        )
        assert_same_faces(img_objs, single_objs)
    logger.info(f"✅ 4-D batch of frames equals single frames for {detector}")


@pytest.mark.parametrize("detector", batch_detectors)
def test_detect_faces_batch_equals_detect_faces(detector):
    face_detector = modeling.build_model(task="face_detector", model_name=detector)
    imgs = [cv2.imread(img_path) for img_path in img_paths] + frames()
    batch_areas = face_detector.detect_faces_batch(imgs)
    assert len(batch_areas) == len(imgs)
    for img, facial_areas in zip(imgs, batch_areas):
        single_areas = face_detector.detect_faces(img)
        assert len(facial_areas) == len(single_areas)
        for batch_area, single_area in zip(facial_areas, single_areas):
            assert (batch_area.x, batch_area.y, batch_area.w, batch_area.h) == (
                single_area.x,
                single_area.y,
                single_area.w,
                single_area.h,
            )
            assert batch_area.left_eye == single_area.left_eye
            assert batch_area.right_eye == single_area.right_eye
            assert abs((batch_area.confidence or 0) - (single_area.confidence or 0)) < 1e-3
    logger.info(f"✅ detect_faces_batch equals detect_faces for {detector}")


@pytest.mark.parametrize("detector", batch_detectors)
def test_non_face_image_in_batch(detector):
    black_img = np.zeros((480, 640, 3), dtype=np.uint8)
    batch = [cv2.imread("dataset/img1.jpg"), black_img]

    with pytest.raises(FaceNotDetected):
        DeepFace.extract_faces(img_path=batch, detector_backend=detector)

    batch_objs = DeepFace.extract_faces(
        img_path=batch, detector_backend=detector, enforce_detection=False
    )
    single_objs = DeepFace.extract_faces(
        img_path=black_img, detector_backend=detector, enforce_detection=False
    )
    assert_same_faces(batch_objs[1], single_objs)
    assert batch_objs[1][0]["confidence"] == 0
    logger.info(f"✅ non-face image in a batch handled as a single image for {detector}")


def test_bad_path_in_batch_names_its_index():
    with pytest.raises(ImgNotFound, match=r"img_path\\[1\\]"):
        DeepFace.extract_faces(img_path=["dataset/img1.jpg", "dataset/not-there.jpg"])
    logger.info("✅ bad path in a batch names its index")


def test_single_image_is_not_wrapped():
    img_objs = DeepFace.extract_faces(img_path="dataset/img1.jpg")
    assert isinstance(img_objs[0], dict)
    batch_objs = DeepFace.extract_faces(img_path=["dataset/img1.jpg"])
    assert len(batch_objs) == 1 and isinstance(batch_objs[0], list)
    assert_same_faces(batch_objs[0], img_objs)
    logger.info("✅ one image gives a list of faces, a list of one image gives one list")
'''
