"""Check that Hugging Face tokenizers (Rust, through DJL in Java) encodes as bpe.py does.

Writes cases (every validation paragraph plus hand-picked edge cases) with the Python
encoder's ids, then runs parity/TokenizerParity.java with JDK 25 and the DJL tokenizers jar
from the local Maven repository (offline).

    /usr/bin/python3 tools/train/check_tokenizer.py tools/train/runs/data/tokenizer.json tools/train/runs/data/val.txt
"""

import base64
import glob
import os
import subprocess
import sys
import tempfile

from bpe import ByteLevelBpe

JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
MAVEN_REPOSITORY = os.path.expanduser("~/.m2/repository")
JARS = ["ai/djl/huggingface/tokenizers/0.36.0/tokenizers-*.jar", "ai/djl/api/0.36.0/api-*.jar",
        "com/google/code/gson/gson/2.13.*/gson-*.jar", "org/slf4j/slf4j-api/2.0.*/slf4j-api-*.jar",
        "net/java/dev/jna/jna/5.*/jna-5*.jar", "org/apache/commons/commons-compress/1.2*/commons-compress-*.jar"]

EDGE_CASES = [
    "", " ", "  ", "\n", "\n\n\n", "a", "Hello, world!", "  leading and trailing  ", "tabs\tand\r\nnewlines\n",
    "It's, I'm, we'll, they've, she'd, don't", "1234567890 3.14159 1,000,000", "e-mail: someone@example.org",
    "naïve café — “quoted” ‘single’ …", "日本語のテキスト", "emoji 🙂🚀 and ZWJ 👩‍👩‍👧", "\u00a0non-breaking\u00a0space",
    "<|begin_of_text|>Once upon a time<|end_of_text|>", "x<|end_of_text|>y", "aaaaaaaaaaaaaaaaaaaaaaa",
    "ababababab abababab", "UPPER lower MiXeD", "   \n   \n", "word\n\n  \tword",
]


def main(tokenizer_path, text_path):
    tokenizer = ByteLevelBpe.load(tokenizer_path)
    with open(text_path, encoding="utf-8") as file:
        paragraphs = [p for p in file.read().split("\n\n") if p]
    cases = EDGE_CASES + paragraphs

    classpath = []
    for pattern in JARS:
        matches = sorted(glob.glob(os.path.join(MAVEN_REPOSITORY, pattern)))
        if not matches:
            raise FileNotFoundError(f"no jar matches {pattern} under {MAVEN_REPOSITORY}; build the Java project once to fetch it")
        classpath.append(matches[-1])

    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as file:
        for text in cases:
            ids = " ".join(str(i) for i in tokenizer.encode(text))
            file.write(base64.b64encode(text.encode("utf-8")).decode("ascii") + "\t" + ids + "\n")
        cases_path = file.name
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity", "TokenizerParity.java")
    result = subprocess.run([JAVA, "-Dai.djl.offline=true", "--class-path", ":".join(classpath), source,
                             tokenizer_path, cases_path])
    os.unlink(cases_path)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
