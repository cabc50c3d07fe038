"""The real ComfyUI server loads the pack."""
from gates.core.names import CATEGORY, ROUTE_PENDING
from harness.comfy import PACK_NAME


def test_every_node_of_the_pack_is_in_the_dataset_gates_category(client):
    status, info = client.get("/object_info")
    assert status == 200
    ours = {k: v for k, v in info.items() if PACK_NAME in str(v.get("python_module", ""))}
    assert {"ImageGate", "FolderImageLoader", "SaveImageToFolder"} <= set(ours)
    assert {k: v["category"] for k, v in ours.items()} == {k: "Dataset Gates" for k in ours}


def test_image_gate_is_in_object_info(comfy, client):
    status, info = client.get("/object_info/ImageGate")
    assert status == 200
    node = info["ImageGate"]
    assert node["output"] == ["MASK"] + ["IMAGE"] * 10 + ["STRING"]          # caption last: old links keep slots
    assert node["output_name"] == ["mask"] + [f"route_{i}" for i in range(1, 11)] + ["caption"]
    assert node["category"] == CATEGORY == "Dataset Gates"
    assert node["display_name"] == "Image Gate (Manual Router)"
    assert node["input"]["required"]["routes"][1]["max"] == 10


def test_server_log_shows_no_import_error_for_the_pack(comfy, client):
    log = comfy.log_text()
    times = [line for line in log.splitlines() if "seconds" in line and line.rstrip().endswith("comfyui-dataset-gates")]
    assert times, "the pack is not in ComfyUI's 'Import times for custom nodes'"
    assert all("IMPORT FAILED" not in line for line in times)
    assert not [line for line in log.splitlines() if line.startswith("Cannot import") and "dataset-gates" in line]


def test_pack_routes_answer(client):
    status, data = client.get(ROUTE_PENDING)
    assert status == 200 and data == {"pending": []}
    status, _ = client.get("/api" + ROUTE_PENDING)
    assert status == 200


def test_example_workflow_is_offered_as_a_template(client):
    status, data = client.get("/api/workflow_templates")
    assert status == 200 and "sort_dataset" in data.get("comfyui-dataset-gates", [])


def test_loader_and_saver_are_in_object_info(client):
    info = client.get("/object_info")[1]
    assert info["FolderImageLoader"]["output_name"] == ["image", "text", "mask", "filename", "index", "count"]
    assert info["FolderImageLoader"]["input"]["required"]["index"][1]["control_after_generate"] is True
    assert info["SaveImageToFolder"]["output_node"] is True
    assert {n["category"] for k, n in info.items() if k in ("ImageGate", "FolderImageLoader", "SaveImageToFolder")} \
        == {CATEGORY}


def test_text_gate_is_in_object_info_with_the_original_interface(client):
    node = client.get("/object_info/TextGate")[1]["TextGate"]
    assert node["display_name"] == "Text Gate (Manual Pass)" and node["category"] == CATEGORY
    assert node["output_name"] == ["text", "signal"] and node["output"][0] == "STRING"
    assert list(node["input"]["optional"])[:4] == ["text", "signal", "protected", "stored_text"]
