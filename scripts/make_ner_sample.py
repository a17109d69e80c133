"""Write albert_edge/assets/ner/ner_sample.conll: the bundled NER model's shippable verification sample.

CoNLL-2003 is Reuters text that may not be shipped in a product, so the default NER export verifies on these
sentences instead: written for this project (no third-party text), tokenised like CoNLL (punctuation split off),
labelled by hand with CoNLL-2003's types (PER, ORG, LOC, MISC) in IOB2. It is a sanity check of the exported model,
not a benchmark; the model card's figures are on CoNLL-2003 valid.

    python scripts/make_ner_sample.py [OUT]      # OUT defaults to the shipped file
"""

import re
import sys
from pathlib import Path

# [words](TYPE) marks an entity; everything else is O.
SENTENCES = """
[Angela Merkel](PER) met [Emmanuel Macron](PER) in [Paris](LOC) on Monday .
[Toyota](ORG) said profits rose 12 percent in [Japan](LOC) last year .
[Manchester United](ORG) beat [Arsenal](ORG) 2-1 at [Old Trafford](LOC) on Saturday .
The [European Union](ORG) agreed new rules on farm subsidies in [Brussels](LOC) .
[Serena Williams](PER) won the [Australian Open](MISC) for the seventh time .
Shares in [Siemens](ORG) fell after the [German](MISC) group cut its forecast .
[Nelson Mandela](PER) was born in [Mvezo](LOC) , a village in [South Africa](LOC) .
The [United Nations](ORG) sent food aid to [Sudan](LOC) and [Chad](LOC) .
[Microsoft](ORG) chief executive [Satya Nadella](PER) spoke in [Seattle](LOC) .
[Brazil](LOC) will host talks with [Argentina](LOC) and [Chile](LOC) next week .
[Roger Federer](PER) of [Switzerland](LOC) retired from tennis in [London](LOC) .
The [World Health Organization](ORG) warned of a new flu strain in [Asia](LOC) .
[Italian](MISC) police arrested two men in [Naples](LOC) on Tuesday .
[Boeing](ORG) delivered 40 jets in March , the [Chicago](LOC) company said .
Pope [Francis](PER) visited [Lisbon](LOC) for a youth festival .
[Apple](ORG) opened a new store in [Beijing](LOC) on Friday .
The [Kenyan](MISC) runner [Eliud Kipchoge](PER) won the [Berlin Marathon](MISC) .
[Vladimir Putin](PER) and [Xi Jinping](PER) met in [Moscow](LOC) .
The [Federal Reserve](ORG) left interest rates unchanged , said [Jerome Powell](PER) .
Floods hit southern [India](LOC) after heavy rain , officials in [Chennai](LOC) said .
[Real Madrid](ORG) signed the [French](MISC) striker [Kylian Mbappe](PER) .
[NASA](ORG) launched a probe to [Jupiter](LOC) from [Cape Canaveral](LOC) .
The [Dutch](MISC) government in [The Hague](LOC) approved the budget .
[Volkswagen](ORG) will build a battery plant in [Spain](LOC) .
[Barack Obama](PER) gave a speech at [Harvard University](ORG) in [Cambridge](LOC) .
[Nigeria](LOC) beat [Ghana](LOC) in the [Africa Cup of Nations](MISC) .
The [Red Cross](ORG) said thousands fled the fighting near [Aleppo](LOC) .
[Canadian](MISC) prime minister [Justin Trudeau](PER) arrived in [Ottawa](LOC) .
[Samsung](ORG) unveiled a new phone at an event in [Seoul](LOC) .
[Lionel Messi](PER) scored twice as [Argentina](LOC) beat [Peru](LOC) .
The [International Monetary Fund](ORG) cut its growth forecast for [Europe](LOC) .
[Swedish](MISC) furniture maker [IKEA](ORG) opened a store in [Mumbai](LOC) .
[Greta Thunberg](PER) joined a climate march in [Stockholm](LOC) .
[Airbus](ORG) and [Rolls-Royce](ORG) signed a deal at the [Paris Air Show](MISC) .
Heavy snow closed roads across [Scotland](LOC) on Wednesday .
[Amazon](ORG) founder [Jeff Bezos](PER) flew to space from [Texas](LOC) .
The [Spanish](MISC) king visited [Mexico City](LOC) for three days .
[Olympic](MISC) champion [Usain Bolt](PER) returned to [Jamaica](LOC) .
[Google](ORG) was fined by regulators in [France](LOC) .
The talks in [Geneva](LOC) between [Iran](LOC) and the [United States](LOC) ended without a deal .
"""


def conll_lines(sentence: str) -> list[str]:
    lines = []
    for match in re.finditer(r"\[([^\]]+)\]\((PER|ORG|LOC|MISC)\)|(\S+)", sentence):
        if match.group(3):
            lines.append(f"{match.group(3)} O")
            continue
        for i, word in enumerate(match.group(1).split()):
            lines.append(f"{word} {'B' if i == 0 else 'I'}-{match.group(2)}")
    return lines


def main() -> None:
    shipped = Path(__file__).resolve().parents[1] / "albert_edge" / "assets" / "ner" / "ner_sample.conll"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else shipped
    blocks = ["\n".join(conll_lines(s)) for s in SENTENCES.strip().splitlines()]
    out.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(blocks)} sentences")


if __name__ == "__main__":
    main()
