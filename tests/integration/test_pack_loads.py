"""The real ComfyUI server loads the pack."""


def test_image_gate_is_in_object_info(comfy, client):
    status, info = client.get("/object_info/ImageGate")
    assert status == 200
    node = info["ImageGate"]
    assert node["output"] == ["MASK"] + ["IMAGE"] * 10
    assert node["output_name"] == ["mask"] + [f"route_{i}" for i in range(1, 11)]
    assert node["category"] == "Datasete Gates"
    assert node["display_name"] == "Image Gate (Manual Router)"
    assert node["input"]["required"]["routes"][1]["max"] == 10


def test_server_log_shows_no_import_error_for_the_pack(comfy, client):
    log = comfy.log_text()
    times = [l for l in log.splitlines() if "seconds" in l and l.rstrip().endswith("comfyui-dataset-gates")]
    assert times, "the pack is not in ComfyUI's 'Import times for custom nodes'"
    assert all("IMPORT FAILED" not in l for l in times)
    assert not [l for l in log.splitlines() if l.startswith("Cannot import") and "dataset-gates" in l]


def test_pack_routes_answer(client):
    status, data = client.get("/datasete_gate/pending")
    assert status == 200 and data == {"pending": []}
    status, _ = client.get("/api/datasete_gate/pending")
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
        == {"Datasete Gates"}
