"""The console in a real browser, beyond single operations: an image taken from a folder bucket (sent as S3Object,
never as bytes), a Custom Labels version trained, evaluated and run from the page, a forged cross-site call refused,
and every view at phone width. Every test also fails on any unexpected browser console error (conftest)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningServer, make_client, needs_shared_data
from tests.console.conftest import ConsolePage
from tests.console.test_console_browser import ASTRONAUT, WIDER_GROUP, signed_in

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the dev extra)").expect

PHOTO_BUCKET = "console-photos"


def posted_bodies(console: ConsolePage, operation: str) -> list[dict[str, Any]]:
    """Collects the JSON bodies the page posts to `operation` from now on."""
    bodies: list[dict[str, Any]] = []
    console.page.on("request", lambda request: bodies.append(json.loads(request.post_data or "{}"))
                    if request.url.endswith(f"/console/api/{operation}") else None)
    return bodies


@needs_shared_data("faces", "wider_val_200_416")
def test_an_image_from_a_folder_bucket_is_analysed_where_it_lies(
    console_page: ConsolePage, server: RunningServer
) -> None:
    folder = server.data_dir / "s3" / PHOTO_BUCKET
    (folder / "crowds").mkdir(parents=True, exist_ok=True)
    shutil.copy(WIDER_GROUP, folder / "crowds" / WIDER_GROUP.name)
    shutil.copy(ASTRONAUT, folder / ASTRONAUT.name)
    (folder / "readme.txt").write_text("not an image: not offered")
    expected = len(make_client(server.url).detect_faces(Image={"Bytes": WIDER_GROUP.read_bytes()})["FaceDetails"])
    page = signed_in(console_page).page
    bodies = posted_bodies(console_page, "DetectFaces")
    page.select_option("#bucket", PHOTO_BUCKET)
    options = page.locator("#bucket-object option")
    expect(options).to_have_count(3)  # the placeholder and the two images, in key order
    assert options.all_text_contents()[1:] == [
        f"{ASTRONAUT.name} ({round(ASTRONAUT.stat().st_size / 1024)} KB)",
        f"crowds/{WIDER_GROUP.name} ({round(WIDER_GROUP.stat().st_size / 1024)} KB)",
    ]
    page.select_option("#bucket-object", f"crowds/{WIDER_GROUP.name}")
    assert f"s3://{PHOTO_BUCKET}/crowds/" in page.text_content("#drop")
    page.click("#run")
    page.wait_for_selector("body[data-rendered=DetectFaces]")
    assert page.locator("#stages rect.box.face").count() == expected
    assert bodies[-1]["Image"] == {"S3Object": {"Bucket": PHOTO_BUCKET, "Name": f"crowds/{WIDER_GROUP.name}"}}
    shown = page.evaluate("document.querySelector('#stages img').src")
    assert shown == f"{server.url}/console/api/buckets/{PHOTO_BUCKET}/image?Name=crowds%2F{WIDER_GROUP.name}"
    console_page.screenshot("bucket-image")
    page.set_input_files("#image", str(ASTRONAUT))  # a picked file replaces the bucket's image, sent as bytes
    page.click("#run")
    page.wait_for_selector("body[data-rendered=DetectFaces]")
    expect(page.locator("#stages rect.box.face")).to_have_count(1)
    assert "Bytes" in bodies[-1]["Image"] and page.input_value("#bucket-object") == ""


@needs_shared_data("ppe", "face_mask_detection")
def test_a_custom_labels_version_trains_evaluates_and_runs_from_the_page(
    console_page: ConsolePage, server: RunningServer, tmp_path: Path
) -> None:
    from tests.operations.test_custom_labels_models import FAST_WAIT, OUTPUT, mask_project

    client = make_client(server.url)
    project, held_back = mask_project(server, client)
    name = project.split("/")[-2]
    page = signed_in(console_page).page
    client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    page.click("button.tab[data-view=custom-view]")
    row = page.locator(f"section[data-project={name}] tr[data-version=v1]")
    expect(row).to_have_count(1)
    trained_before_shown = row.get_attribute("data-status") != "TRAINING_IN_PROGRESS"
    if not trained_before_shown:
        expect(row.locator("progress")).to_have_count(1)  # the percentage done, as a bar
    # No click: the view asks again by itself while a version trains.
    expect(row).to_have_attribute("data-status", "TRAINING_COMPLETED", timeout=120_000)
    f1 = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["EvaluationResult"][
        "F1Score"]
    assert f"{f1:.3f}" in row.text_content()
    row.locator("details.evaluation summary").click()
    metrics = row.locator("table.metrics tr")
    expect(metrics).to_have_count(3)  # a header and one row per label
    assert sorted(metrics.nth(i).locator("td").first.text_content() for i in (1, 2)) == ["with_mask", "without_mask"]
    console_page.screenshot("custom-labels")

    arn = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["ProjectVersionArn"]
    client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    client.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST_WAIT)
    crop = tmp_path / "held-back.jpg"
    crop.write_bytes(held_back[0][0])
    expected = client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": held_back[0][0]})["CustomLabels"]
    page.click("button.tab[data-view=analyze-view]")
    page.select_option("#operation", "DetectCustomLabels")
    page.wait_for_selector(f"#custom-model option[value='{arn}']", state="attached")
    page.select_option("#custom-model", arn)
    page.set_input_files("#image", str(crop))
    page.click("#run")
    page.wait_for_selector("body[data-rendered=DetectCustomLabels]")
    assert page.locator("#found li").all_text_contents() == [
        f"{label['Name']} {label['Confidence']:.1f} %" for label in expected
    ]
    client.stop_project_version(ProjectVersionArn=arn)


EVIL_PAGE = """<!doctype html><script>
fetch(%s, {method: "POST", mode: "no-cors", credentials: "include", headers: {"content-type": "text/plain"},
  body: JSON.stringify({CollectionId: %s})}).finally(() => document.title = "sent");
</script>"""


def test_a_call_forged_by_another_site_is_refused(console_page: ConsolePage, server: RunningServer) -> None:
    client = make_client(server.url)
    name = "console-csrf-target"
    client.create_collection(CollectionId=name)
    page = signed_in(console_page).page
    console_page.refused_on_purpose.add("/console/api/DeleteCollection")
    missing_token = page.evaluate("""async (name) => (await fetch("api/DeleteCollection", {method: "POST",
        headers: {"content-type": "application/json"}, body: JSON.stringify({CollectionId: name})})).json()""", name)
    assert missing_token["__type"] == "AccessDeniedException" and "CSRF" in missing_token["Message"]
    evil = page.context.new_page()  # same browser, same cookies: a page of another site open beside the console
    evil.route("http://evil.test/", lambda route: route.fulfill(content_type="text/html", body=EVIL_PAGE % (
        json.dumps(f"{server.url}/console/api/DeleteCollection"), json.dumps(name))))
    evil.goto("http://evil.test/")
    evil.wait_for_function("document.title === 'sent'")
    evil.close()
    assert name in client.list_collections()["CollectionIds"]
    assert "console DeleteCollection 403" in server.log  # it reached the server and was refused there
    client.delete_collection(CollectionId=name)


def test_every_view_fits_a_phone(browser: Any, server: RunningServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    console = ConsolePage(page=page, url=f"{server.url}/console/")
    page.goto(console.url)
    page.wait_for_selector("#sign-in-view:not([hidden])")
    signed_in(console)
    page.set_input_files("#image", str(ASTRONAUT))
    page.click("#run")
    page.wait_for_selector("body[data-rendered=DetectFaces]")
    for view in ["analyze-view", "collections-view", "custom-view"]:
        page.click(f"button.tab[data-view={view}]")
        page.wait_for_selector(f"#{view}:not([hidden])")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, view
        console.screenshot(f"phone-{view}")
    context.close()
    assert errors == []
