"""deepface.ray on a simulated two-node cluster (``ray.cluster_utils.Cluster``, one CPU
per node): the job spreads over both nodes and gives the local call's results; a plan
is checked node by node (an actor larger than every node is refused, though the
cluster's CPUs add up to it)."""

import os
from typing import List

import cv2
import pytest

from tests.conftest import resize_to_width, shared_faces_or_skip

ray = pytest.importorskip("ray", reason="deepface.ray needs the ray extra: pip install 'deepface[ray]'")
pytest.importorskip("ray.data", reason="deepface.ray needs Ray Data: pip install 'ray[data]'")
cluster_utils = pytest.importorskip("ray.cluster_utils", reason="needs ray.cluster_utils")

from deepface import DeepFace  # noqa: E402
from deepface.ray import ResourcePlanError, extract_faces_dataset  # noqa: E402

# Two Ray instances at once on one machine would compete for its CPUs and ports: under
# pytest-xdist, the Ray modules run in one worker, one after the other.
pytestmark = pytest.mark.xdist_group("ray")

NODE = {"num_cpus": 1, "object_store_memory": 100 * 1024**2}


@pytest.fixture(scope="module")
def two_nodes():
    """A head and a worker node of one CPU each, joined by this process."""
    if ray.is_initialized():
        ray.shutdown()
    # Ray's default temporary folder (/tmp/ray): Cluster records its address there
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    cluster.add_node(**NODE)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    assert len([node for node in ray.nodes() if node["Alive"]]) == 2
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    shared = shared_faces_or_skip()
    folder = tmp_path_factory.mktemp("ray-cluster-photos")
    paths = []
    for name in ("couple.jpg", "img2.jpg", "img4.jpg"):
        path = folder / name.replace(".jpg", ".png")
        cv2.imwrite(str(path), resize_to_width(cv2.imread(str(shared / name)), 300))
        paths.append(str(path))
    return paths + [str(folder / "missing.png")]


@pytest.mark.timeout(120)
def test_two_actors_on_two_nodes_give_the_local_results(two_nodes, photos):
    dataset = ray.data.from_items([{"path": path} for path in photos])
    rows = extract_faces_dataset(dataset, detector_backend="opencv", num_actors=2, batch_size=1,
                                 preserve_order=True).take_all()
    assert [row["path"] for row in rows] == photos
    for row, path in zip(rows, photos):
        if not os.path.exists(path):
            assert row["faces"] == [] and row["error"].startswith("ImageLoadError")
            continue
        local = DeepFace.extract_faces(path, detector_backend="opencv")
        assert row["error"] is None
        assert [(f["facial_area"]["x"], f["facial_area"]["y"], f["facial_area"]["w"], f["confidence"])
                for f in row["faces"]] == [
            (f["facial_area"]["x"], f["facial_area"]["y"], f["facial_area"]["w"], f["confidence"]) for f in local
        ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "plan, reason",
    [({"num_cpus": 2}, "no node can hold one actor"), ({"num_actors": 3}, "do not fit")],
)
def test_a_plan_is_checked_node_by_node(two_nodes, photos, plan, reason):
    dataset = ray.data.from_items([{"path": path} for path in photos])
    with pytest.raises(ResourcePlanError, match=reason):
        extract_faces_dataset(dataset, **plan)

