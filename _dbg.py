import json, random
from qa.settings import Settings
from qa.wiring import load_drugs
from qa.eval.drug_eval import read_set, stream, hostile_outputs
from qa.eval.leaks import LeakChecker
from pathlib import Path
d = load_drugs(Settings(backend="fake"))
c = LeakChecker(Path("qa/data/forbidden_drugs.csv").read_text(), Path("qa/data/drug_aliases.csv").read_text())
ordn = read_set("drug_ordinary")
hits = {}
for o in ordn:
    for l in c.leaks(o["text"]):
        hits.setdefault(l.name, o["text"])
print(list(hits.items())[:15])
held = read_set("drug_variants_heldout")
outs = hostile_outputs(random.Random(11).sample(held, 150), random.Random(11))
n=0
for t in outs:
    w = d.redact(t)[0]; s = stream(d, t, 3)
    if w != s and n < 6:
        n+=1; print("W", w); print("S", s)
