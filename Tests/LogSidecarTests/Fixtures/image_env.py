#!/usr/bin/env python3
"""The environment a container of the image starts with: the ENV of the Dockerfile's last stage, in
order. Imported by manifest_env.py; run alone it prints NAME=value lines.
usage: image_env.py DOCKERFILE"""
import shlex
import sys


def image_environment(path):
    """The ENV of the Dockerfile's last stage, in order: what every container of the image starts with."""
    text = open(path).read().replace("\\\n", " ")
    environment = []
    for line in text.splitlines():
        words = line.strip().split(None, 1)
        if not words:
            continue
        if words[0].upper() == "FROM":
            environment = []
        elif words[0].upper() == "ENV" and len(words) == 2:
            parts = shlex.split(words[1])
            if "=" in parts[0]:
                environment += [tuple(part.split("=", 1)) for part in parts]
            else:
                environment.append((parts[0], " ".join(parts[1:])))
    return environment


if __name__ == "__main__":
    for name, value in image_environment(sys.argv[1]):
        print(f"{name}={value}")
