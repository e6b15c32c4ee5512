"""The label taxonomy file is consistent: every parent a label, no cycles, Title Case, every model class mapped."""

from __future__ import annotations

import json

import pytest

from reko.operations.labels.taxonomy import TAXONOMY_PATH, load_taxonomy
from reko.vision.catalog import BUNDLED_DIR

SMALL_WORDS = {"a", "an", "and", "as", "at", "des", "for", "in", "of", "on", "or", "the", "to", "with"}
# Abstract WordNet nodes the pruning must keep out (TAXONOMY.md, "Pruning").
PRUNED = {"Entity", "Physical Entity", "Object", "Whole", "Placental", "Chordate", "Vertebrate", "Organism",
          "Living Thing", "Artifact", "Instrumentality", "Abstraction", "Matter", "Causal Agent"}


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(TAXONOMY_PATH.read_text())


def test_every_parent_is_a_label_and_parents_are_closed(data: dict) -> None:
    labels = data["labels"]
    for name, entry in labels.items():
        for parent in entry["parents"]:
            assert parent in labels, f"{name}: parent {parent!r} is no label"
            assert set(labels[parent]["parents"]) <= set(entry["parents"]), f"{name}: {parent}'s parents missing"


def test_no_label_is_its_own_ancestor(data: dict) -> None:
    for name, entry in data["labels"].items():
        assert name not in entry["parents"]
        assert len(set(entry["parents"])) == len(entry["parents"])


def test_names_are_title_case_and_never_wordnet_spelling(data: dict) -> None:
    for name in data["labels"]:
        words = name.split(" ")
        assert all(word[:1].isupper() or word[:1].isdigit() or (i and word in SMALL_WORDS)
                   for i, word in enumerate(words)), name
        assert "_" not in name and "," not in name and "/" not in name, name
    assert not PRUNED & set(data["labels"])


def test_every_model_class_is_mapped(data: dict) -> None:
    coco = [name for name in json.loads((BUNDLED_DIR / "coco-ssd-classes.json").read_text()) if name]
    assert sorted(data["coco"]) == sorted(coco)
    assert len(data["imagenet"]) == len(json.loads((BUNDLED_DIR / "imagenet-classes.json").read_text())) == 1000
    assert all(label in data["labels"] for label in [*data["coco"].values(), *data["imagenet"], data["face"]])


def test_every_label_has_documented_categories(data: dict) -> None:
    for name, entry in data["labels"].items():
        assert entry["categories"] and set(entry["categories"]) <= set(data["categories"]), name


def test_parents_list_the_most_specific_first(data: dict) -> None:
    """No parent comes after one of its own ancestors ("Bird, Animal", never "Animal, Bird")."""
    labels = data["labels"]
    for name, entry in labels.items():
        for i, parent in enumerate(entry["parents"]):
            assert not set(labels[parent]["parents"]) & set(entry["parents"][:i]), f"{name}: {entry['parents']}"


def test_aliases_name_one_label_and_are_names_not_descriptions(data: dict) -> None:
    owners: dict[str, list[str]] = {}
    for name, entry in data["labels"].items():
        for alias in entry["aliases"]:
            owners.setdefault(alias.lower(), []).append(name)
            assert "," not in alias and " or " not in alias and len(alias.split()) <= 4, f"{name}: {alias!r}"
            assert alias not in data["labels"], f"{name}: alias {alias!r} is another label"
    assert not {alias: names for alias, names in owners.items() if len(names) > 1}


@pytest.mark.parametrize(
    ("label", "not_parents"),
    [
        ("Zebra", {"Horse"}),  # the review of 2026-11-30 (docs/taxonomy-review.md) removed these
        ("Hyena", {"Canine", "Dog"}),
        ("Coral Reef", {"Mountain"}),
        ("Tea Cup", {"Alcohol", "Beverage"}),
        ("Meatloaf", {"Bread"}),
        ("Crash Helmet", {"Hat"}),
    ],
)
def test_parents_a_user_would_call_wrong_are_gone(label: str, not_parents: set[str]) -> None:
    assert not not_parents & set(load_taxonomy().labels[label].parents)


@pytest.mark.parametrize(
    ("label", "parents", "category"),
    [
        ("Golden Retriever", {"Dog", "Canine", "Mammal", "Animal", "Pet"}, "Animals and Pets"),
        ("Tea Cup", {"Cup", "Tableware"}, "Kitchen and Dining"),
        ("Soccer Ball", {"Sports Ball", "Sports Equipment"}, "Sports"),
        ("Bakery", {"Shop", "Building"}, "Buildings and Architecture"),
        ("Computer Mouse", {"Computer Hardware", "Electronics"}, "Technology and Computing"),
        ("Handbag", {"Bag", "Accessories"}, "Apparel and Accessories"),
        ("Daisy", {"Flower", "Plant"}, "Plants and Flowers"),
        ("Tabby Cat", {"Cat", "Pet", "Animal"}, "Animals and Pets"),
        ("Espresso", {"Beverage"}, "Food and Beverage"),
        ("Sports Car", {"Car", "Vehicle", "Transportation"}, "Vehicles and Automotive"),
        ("Person", set(), "Person Description"),
        ("Mobile Phone", {"Phone", "Electronics"}, "Technology and Computing"),
    ],
)
def test_known_labels_read_as_rekognition_names_them(label: str, parents: set[str], category: str) -> None:
    info = load_taxonomy().labels[label]
    assert parents <= set(info.parents)
    assert category in info.categories


def test_detector_and_classifier_name_the_same_thing_once() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.coco["laptop"] == "Laptop" == taxonomy.imagenet[620]
    assert taxonomy.coco["dog"] == "Dog"
    # membership: Dog's row covers every breed (118 ImageNet dog classes)
    row = taxonomy.names.index("Dog")
    assert int(taxonomy.imagenet_membership[row].sum()) == 118
