"""python manage.py match_images --references DIR --candidates DIR [--faces DIR] [--json]
   python manage.py match_images --reference-fingerprints FILE.json --candidates DIR [--json]

Offline batch matching, in this process, with no database or services: every image or video
file in --candidates is matched against every one in --references, or against the fingerprints
of a document made on the person's device (the /fingerprint/ page; "reference" is then the
fingerprint's name). With --faces (a folder of
ordinary photos of the person's face; --references then becomes optional), candidates that match
no reference image are also searched for the person's face: such a decision has
"method": "face", "reference" = the face photo whose face matched and "distance" = the
embedding distance (a possible deepfake, for a person to check). Of each face photo the largest
face is used. With --json, one JSON object per candidate file, in path order:

    {"candidate": "<path>", "reference": "<path or null>", "method": "<str or null>", "distance": <number or null>}
    {"candidate": "<path>", "error": "<reason>"}       (a file that cannot be read)

Progress goes to stderr (a progress bar on a terminal). Exit status 0 once both folders were
processed, whatever was found.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from app.matching.decode import DecodeError, decode_media
from app.matching.document import MAX_DOCUMENT_BYTES, DocumentError, parse_document
from app.matching.engine import Matcher, match_frames
from app.matching.faces import FaceMatcher, detect_faces
from app.matching.fingerprint import Fingerprint, fingerprint_reference

MAX_FILE_BYTES = 1 << 30  # refuse to read a single file over 1 GiB into memory


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DecodeError("file too large", "decode_too_large")
    return path.read_bytes()


class Command(BaseCommand):
    help = "Match every image/video in a folder of candidates against a folder of reference images."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--references", type=Path, help="folder of reference images/videos")
        parser.add_argument(
            "--reference-fingerprints",
            type=Path,
            help="fingerprint file made on the person's device (/fingerprint/ page) instead of images",
        )
        parser.add_argument("--candidates", type=Path, required=True, help="folder of images/videos to check")
        parser.add_argument(
            "--faces", type=Path, help="folder of ordinary photos of the person's face (face stage)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object per candidate")

    def handle(self, *args: Any, **options: Any) -> None:
        ref_dir: Path | None = options["references"]
        doc_path: Path | None = options["reference_fingerprints"]
        cand_dir: Path = options["candidates"]
        face_dir: Path | None = options["faces"]
        if ref_dir is not None and doc_path is not None:
            raise CommandError("give --references or --reference-fingerprints, not both")
        if ref_dir is None and doc_path is None and face_dir is None:
            raise CommandError("give --references, --reference-fingerprints or --faces")
        for flag, folder in (("--references", ref_dir), ("--candidates", cand_dir), ("--faces", face_dir)):
            if folder is not None and not folder.is_dir():
                raise CommandError(f"{flag}: {folder} is not a folder")
        quiet = not sys.stderr.isatty()

        refs: list[tuple[Hashable, Fingerprint]] = self._document_references(doc_path) if doc_path else []
        ref_files = _files(ref_dir) if ref_dir is not None else []
        for path in tqdm(ref_files, desc="references", unit="file", file=sys.stderr, disable=quiet):
            try:
                media = decode_media(_read(path))
            except (DecodeError, OSError) as exc:
                reason = exc.reason if isinstance(exc, DecodeError) else str(exc)
                self.stderr.write(f"skipped reference {path}: {reason}")
                continue
            refs.extend((str(path), fingerprint_reference(frame)) for frame in media.frames)
        if ref_dir is not None and not refs:
            self.stderr.write(f"no usable reference in {ref_dir}: nothing can match")
        matcher = Matcher(refs)
        face_matcher = self._face_matcher(face_dir, quiet) if face_dir is not None else None

        for path in tqdm(_files(cand_dir), desc="candidates", unit="file", file=sys.stderr, disable=quiet):
            line: dict[str, Any]
            try:
                media = decode_media(_read(path))
            except (DecodeError, OSError) as exc:
                reason = exc.reason if isinstance(exc, DecodeError) else f"cannot read file ({exc.strerror})"
                line = {"candidate": str(path), "error": reason}
            else:
                res, frame = match_frames(media.frames, matcher) if len(matcher) else (None, None)
                line = {
                    "candidate": str(path),
                    "reference": None if res is None else res.reference_key,
                    "method": None if res is None else res.method,
                    "distance": None if res is None else res.distance,
                }
                if res is not None and media.kind == "video":
                    line["frame"] = frame
                # Image matches take precedence; the face stage looks only at what they missed.
                face = face_matcher.match_frames(media.frames) if res is None and face_matcher else None
                if face is not None:
                    line.update(reference=face.reference_key, method="face", distance=face.distance)
                    if media.kind == "video":
                        line["frame"] = face.frame
            if options["json"]:
                self.stdout.write(json.dumps(line, ensure_ascii=False))
            elif line.get("method") == "face":
                self.stdout.write(
                    f"{line['candidate']}: POSSIBLE DEEPFAKE same face as {line['reference']} "
                    f"(face distance {line['distance']:g}; a person must check)"
                )
            elif "error" in line:
                self.stdout.write(f"{line['candidate']}: ERROR {line['error']}")
            elif line["reference"] is None:
                self.stdout.write(f"{line['candidate']}: no match")
            else:
                self.stdout.write(
                    f"{line['candidate']}: MATCH {line['reference']} ({line['method']}, distance {line['distance']:g})"
                )

    def _face_matcher(self, folder: Path, quiet: bool) -> FaceMatcher:
        faces: list[tuple[Hashable, Any]] = []
        for path in tqdm(_files(folder), desc="faces", unit="file", file=sys.stderr, disable=quiet):
            try:
                media = decode_media(_read(path), max_frames=1)
            except (DecodeError, OSError) as exc:
                reason = exc.reason if isinstance(exc, DecodeError) else str(exc)
                self.stderr.write(f"skipped face photo {path}: {reason}")
                continue
            found = detect_faces(media.frames[0]) if media.kind == "image" else []
            if not found:
                self.stderr.write(f"skipped face photo {path}: no face found")
                continue
            if len(found) > 1:
                self.stderr.write(f"face photo {path}: {len(found)} faces, using the largest")
            faces.append((str(path), found[0].embedding))
        if not faces:
            self.stderr.write(f"no usable face in {folder}: no face can match")
        elif len(faces) < 3:
            self.stderr.write(f"only {len(faces)} usable face(s): photos from more angles find more")
        return FaceMatcher(faces)

    def _document_references(self, doc_path: Path) -> list[tuple[Hashable, Fingerprint]]:
        try:
            if doc_path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise CommandError(f"--reference-fingerprints: {doc_path} is too large")
            items, skipped = parse_document(doc_path.read_bytes())
        except OSError as exc:
            raise CommandError(f"--reference-fingerprints: cannot read {doc_path} ({exc.strerror})") from exc
        except DocumentError as exc:
            raise CommandError(f"--reference-fingerprints: {exc.reason}") from exc
        for reason in skipped:
            self.stderr.write(f"skipped fingerprint {reason}")
        if not items:
            self.stderr.write(f"no usable fingerprint in {doc_path}: nothing can match")
        return [(item.name, item.fingerprint) for item in items]
