#!/usr/bin/python3
# check-sbom.py — checks a sekisho SBOM: valid against the SPDX 2.3 JSON schema, and every NEEDED library of every ELF file under ROOT is in it, linked and owned by a versioned package.
#   check-sbom.py SBOM ROOT [--installed]
# --installed: also check each library package's version against dpkg on this machine (the build machine).
# Exit 0 if good, 1 with one line per problem, 77 if python3-jsonschema is missing.
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "packaging"))
import sbom  # noqa: E402  (packaging/sbom.py: the one reader of NEEDED entries)

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed")
    sys.exit(77)

SCHEMA = os.path.join(here, "..", "data", "spdx-2.3-schema.json")


def main(argv):
    if len(argv) not in (3, 4) or (len(argv) == 4 and argv[3] != "--installed"):
        sys.exit("usage: check-sbom.py SBOM ROOT [--installed]")
    path, root = argv[1], argv[2]
    problems = []
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    for e in sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        problems.append("%s: schema: at /%s: %s" % (path, "/".join(map(str, e.absolute_path)), e.message))
    if doc.get("spdxVersion") != "SPDX-2.3":
        problems.append("%s: spdxVersion is not SPDX-2.3" % path)

    packages = {p.get("SPDXID"): p for p in doc.get("packages", []) if isinstance(p, dict)}
    files = {f.get("SPDXID"): f for f in doc.get("files", []) if isinstance(f, dict)}
    rels = [r for r in doc.get("relationships", []) if isinstance(r, dict)]
    ids = set(packages) | set(files) | {"SPDXRef-DOCUMENT"}
    for r in rels:
        for k in ("spdxElementId", "relatedSpdxElement"):
            if r.get(k) not in ids:
                problems.append("%s: relationship %s names %s, which is not in the document" %
                                (path, r.get("relationshipType"), r.get(k)))
    described = [r["relatedSpdxElement"] for r in rels
                 if r.get("spdxElementId") == "SPDXRef-DOCUMENT" and r.get("relationshipType") == "DESCRIBES"]
    top = packages.get(described[0]) if len(described) == 1 else None
    if not top or top.get("name") != "sekisho" or not top.get("versionInfo"):
        problems.append("%s: the document does not describe one versioned package named sekisho" % path)
        top = {}
    source = [r["relatedSpdxElement"] for r in rels
              if r.get("spdxElementId") == top.get("SPDXID") and r.get("relationshipType") == "GENERATED_FROM"]
    if not any(c.get("algorithm") == "SHA256" for s in source for c in packages.get(s, {}).get("checksums", [])):
        problems.append("%s: no source package with a SHA256 digest that sekisho is GENERATED_FROM" % path)

    # soname -> File, and who links it / which package contains it.
    by_soname = {}
    for fid, f in files.items():
        by_soname.setdefault(os.path.basename(f.get("fileName", "")), fid)
    contained = {r["relatedSpdxElement"]: r["spdxElementId"] for r in rels if r.get("relationshipType") == "CONTAINS"}
    links = {(r["spdxElementId"], r["relatedSpdxElement"]) for r in rels if r.get("relationshipType") == "DYNAMIC_LINK"}

    def check_lib(soname, linker, who):
        fid = by_soname.get(soname)
        if fid is None:
            problems.append("%s: %s needs %s, which the SBOM does not list" % (path, who, soname))
            return None
        pkg = packages.get(contained.get(fid))
        if not pkg or not pkg.get("versionInfo"):
            problems.append("%s: %s (needed by %s) is in no versioned package" % (path, soname, who))
        if (linker, fid) not in links:
            problems.append("%s: no DYNAMIC_LINK from %s to %s (needed by %s)" % (path, linker, soname, who))
        return fid

    elves = sbom.shipped_elves(root)
    if not elves:
        problems.append("%s: no ELF files to check" % root)
    checked = set()
    for elf in elves:
        rel = "/" + os.path.relpath(elf, root)
        for soname in sbom.needed(elf):
            fid = check_lib(soname, top.get("SPDXID"), rel)
            checked.add(soname)
            # Its own needs, as far as the build system has that library.
            todo = [(fid, files[fid]["fileName"])] if fid and os.path.exists(files[fid]["fileName"]) else []
            while todo:
                lid, lpath = todo.pop()
                for dep in sbom.needed(lpath):
                    if dep in checked:
                        continue
                    checked.add(dep)
                    did = check_lib(dep, lid, os.path.basename(lpath))
                    if did and os.path.exists(files[did]["fileName"]):
                        todo.append((did, files[did]["fileName"]))

    if len(argv) == 4:
        for p in packages.values():
            if p.get("primaryPackagePurpose") != "LIBRARY":
                continue
            purl = next((r["referenceLocator"] for r in p.get("externalRefs", []) if r.get("referenceType") == "purl"), "")
            arch = purl.rpartition("arch=")[2]
            q = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "%s:%s" % (p["name"], arch)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            if q.returncode != 0 or q.stdout != p.get("versionInfo"):
                problems.append("%s: %s %s, but dpkg has %s" % (path, p["name"], p.get("versionInfo"),
                                                                q.stdout or "no such package"))

    for line in problems:
        print(line)
    if problems:
        return 1
    print("%s: valid SPDX 2.3; %d packages, %d library files; every NEEDED of %d ELF file(s) present" %
          (path, len(packages), len(files), len(elves)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
