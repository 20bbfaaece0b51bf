"""Vocabulary for the demo data generator: names, nicknames, streets, cities, e-mail domains.

Lists are ordered roughly by popularity: the generator gives earlier entries more weight
(Zipf-like), so "Jansen" and "Nielsen" are common and the tail is rare.

`NICKNAMES` maps a canonical first name to its diminutives (all lowercase). Every diminutive
belongs to exactly one canonical name and no diminutive is itself a key, so the table can be
inverted into a `diminutive -> canonical` lookup (the dbt seed used to canonicalise first names).
"""

from __future__ import annotations

# --------------------------------------------------------------------------- first names
# "traditional" names dominate people born before ~1975, "modern" ones people born later.

# fmt: off
NL_MALE_TRADITIONAL = [
    "Johannes", "Jan", "Cornelis", "Hendrik", "Willem", "Pieter", "Jacobus", "Gerrit", "Adrianus",
    "Petrus", "Franciscus", "Antonius", "Theodorus", "Wilhelmus", "Gerardus", "Hendrikus", "Jacob",
    "Klaas", "Dirk", "Arie", "Bernardus", "Martinus", "Nicolaas", "Albert", "Frederik", "Marinus",
    "Leendert", "Hermanus", "Lambertus", "Josephus", "Henk", "Kees", "Gert", "Peter", "Hans", "Rob",
    "Ruud", "Ton", "Wim", "Frank", "Paul", "Marcel", "Erik", "Johan", "René", "André", "Mark",
    "Richard", "Jeroen", "Dennis", "Patrick", "Martijn", "Bas", "Michiel", "Remco", "Edwin",
    "Arjan", "Bart", "Vincent", "Maarten", "Joost", "Ronald", "Marco", "Robert", "Gerard", "Harm",
    "Jan-Willem", "Christiaan", "Alexander", "Eduard", "Leonardus", "Matthijs", "Roelof", "Sjoerd",
    "Wouter",
]
NL_MALE_MODERN = [
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Noah", "Milan", "Luuk", "Bram", "Jesse", "Thijs",
    "Max", "Ruben", "Lars", "Sven", "Tim", "Thomas", "Stijn", "Jasper", "Julian", "Gijs", "Tom",
    "Koen", "Rick", "Kevin", "Jelle", "Mees", "Teun", "Siem", "Olivier", "Liam", "Adam", "Mats",
    "Jens", "Hugo", "Floris", "Tijn", "Cas", "Guus", "Boaz", "Dex", "Joep", "Pim", "Vince", "Sam",
    "Timo", "Jurre", "Stan", "Luca", "Niek", "Roel", "Wessel", "Hidde", "Job", "Mike", "Dylan",
    "Joris", "Mohammed", "Youssef", "Sander", "Niels", "Ties", "Benjamin", "Noé", "Matthias",
    "Jayden", "Owen", "Ravi", "Mick", "Robin",
]
NL_FEMALE_TRADITIONAL = [
    "Maria", "Johanna", "Cornelia", "Wilhelmina", "Elisabeth", "Margaretha", "Catharina",
    "Hendrika", "Anna", "Geertruida", "Adriana", "Petronella", "Jacoba", "Helena", "Aaltje",
    "Trijntje", "Hilda", "Ingrid", "Monique", "Marian", "Marianne", "Annemarie", "Jolanda", "Petra",
    "Sandra", "Linda", "Ellen", "Esther", "Karin", "Wendy", "Mirjam", "Ans", "Riet", "Truus",
    "Joke", "Ria", "Tineke", "Anneke", "Gerda", "Astrid", "Saskia", "Sabine", "Bianca", "Patricia",
    "Nicole", "Marjolein", "Yvonne", "Henriëtte", "Diana", "Carla", "Els", "Marja", "José",
    "Hanneke", "Anne-Marie", "Marie-José", "Christina", "Francisca", "Antonia", "Theodora",
    "Gerarda", "Paulina", "Susanna", "Barbara", "Dorothea", "Alida", "Geertje", "Jantje",
    "Willemijn", "Ineke", "Mariëlle", "Judith", "Miranda", "Brenda",
]
NL_FEMALE_MODERN = [
    "Emma", "Sophie", "Julia", "Tess", "Zoë", "Sara", "Eva", "Lotte", "Fleur", "Lisa", "Sanne",
    "Femke", "Iris", "Noa", "Mila", "Sophia", "Nina", "Evi", "Lieke", "Isa", "Saar", "Roos",
    "Fenna", "Liv", "Olivia", "Yara", "Nora", "Lynn", "Jasmijn", "Anouk", "Maud", "Lara", "Esmee",
    "Floor", "Amber", "Britt", "Demi", "Kim", "Laura", "Manon", "Merel", "Naomi", "Romy", "Sarah",
    "Vera", "Elin", "Hanna", "Luna", "Noor", "Charlotte", "Lieve", "Jill", "Chloë", "Isabel", "Fay",
    "Puck", "Ilse", "Bo", "Nienke", "Suze", "Zara", "Ayla", "Milou", "Mirthe", "Rosalie", "Elise",
    "Annabel", "Indy", "Jade", "Kiki",
]

DK_MALE_TRADITIONAL = [
    "Jens", "Niels", "Hans", "Peter", "Poul", "Jørgen", "Søren", "Henrik", "Lars", "Carsten",
    "Kurt", "Bent", "Erik", "Ole", "Knud", "Svend", "Flemming", "Preben", "Torben", "Per", "Arne",
    "Kristian", "Frederik", "Christian", "Anders", "Morten", "Steen", "Kim", "Michael", "Thomas",
    "Martin", "Jan", "Bo", "Jesper", "Claus", "Allan", "Brian", "Kenneth", "René", "Johannes",
    "Mogens", "Palle", "Leif", "Erling", "Villy", "Børge", "Holger", "Verner", "Ejnar", "Tage",
    "Gunnar", "Karsten", "Benny", "Jørn", "Henning", "Ib", "Kaj", "Bjarne", "Finn", "Bjørn",
    "Hans-Henrik", "Jacob", "Ebbe", "Egon", "Frode", "Gert", "Helge", "Ivan", "John", "Keld",
    "Orla", "Poul-Erik", "Uffe", "Vagn",
]
DK_MALE_MODERN = [
    "William", "Noah", "Oscar", "Lucas", "Victor", "Malthe", "Emil", "Alfred", "Oliver", "Magnus",
    "Elias", "Carl", "Aksel", "Valdemar", "August", "Mikkel", "Mads", "Rasmus", "Jonas", "Mathias",
    "Tobias", "Sebastian", "Christoffer", "Nikolaj", "Andreas", "Kasper", "Simon", "Jakob",
    "Nicklas", "Jonathan", "Villads", "Anton", "Theodor", "Benjamin", "Storm", "Arthur", "Felix",
    "Johan", "Alexander", "Marcus", "Philip", "Daniel", "Casper", "Frej", "Otto", "Viggo",
    "Laurits", "Sander", "Asger", "Bertram", "Gustav", "Hjalte", "Ludvig", "Marius", "Sigurd",
    "Silas", "Thor", "Vitus", "Adam", "Albert", "Elliot", "Mikael", "Noel", "Rune", "Tristan",
    "Esben", "Kristoffer", "Frederik", "Martin",
]
DK_FEMALE_TRADITIONAL = [
    "Anne", "Kirsten", "Hanne", "Mette", "Susanne", "Lene", "Inge", "Karen", "Birgit", "Bente",
    "Lone", "Marianne", "Helle", "Pia", "Jytte", "Annette", "Tove", "Else", "Ruth", "Ingrid",
    "Lise", "Dorthe", "Gitte", "Tina", "Charlotte", "Margrethe", "Johanne", "Kristine", "Elisabeth",
    "Ellen", "Inger", "Birthe", "Vibeke", "Winnie", "Jette", "Merete", "Ulla", "Connie", "Aase",
    "Gerda", "Edith", "Solveig", "Kamma", "Hjørdis", "Bodil", "Dagmar", "Signe", "Grete", "Lillian",
    "Annelise", "Karin", "Britta", "Ditte", "Erna", "Gudrun", "Henny", "Irene", "Jonna", "Lisbeth",
    "Marie-Louise", "Nina", "Randi", "Rigmor", "Sonja", "Tenna", "Yvonne", "Åse", "Ingeborg",
    "Kirstine", "Tove-Lise",
]
DK_FEMALE_MODERN = [
    "Emma", "Ida", "Clara", "Freja", "Sofia", "Ella", "Alma", "Karla", "Anna", "Laura", "Josefine",
    "Mathilde", "Agnes", "Nora", "Olivia", "Lærke", "Maja", "Caroline", "Cecilie", "Sofie", "Julie",
    "Camilla", "Sarah", "Amalie", "Emilie", "Frida", "Liva", "Astrid", "Asta", "Victoria",
    "Isabella", "Line", "Louise", "Nanna", "Maria", "Marie", "Rikke", "Stine", "Katrine", "Sidsel",
    "Thea", "Esther", "Lea", "Luna", "Vilma", "Aya", "Silje", "Mille", "Naja", "Andrea", "Augusta",
    "Ellie", "Filippa", "Gry", "Hannah", "Isabel", "Johanna", "Liv", "Malou", "Merle", "Molly",
    "Nicoline", "Pernille", "Sara", "Selma", "Signe", "Tilde", "Vigga", "Zoë", "Ronja",
]

# Canonical first name -> diminutives / nicknames (lowercase). Keys are names the generator
# draws; each diminutive appears exactly once across the table and is never itself a key.
NICKNAMES: dict[str, list[str]] = {
    # Dutch, male
    "johannes": ["jan", "hans", "joop", "hannes", "johan"],
    "cornelis": ["kees", "cor", "corné"],
    "hendrik": ["henk", "rik", "hennie"],
    "hendrikus": ["hendrie", "driekus"],
    "jacobus": ["koos", "jaap", "co"],
    "jacob": ["jaak", "jacco"],
    "willem": ["wim", "pim", "wil"],
    "wilhelmus": ["willem-jan", "helmus"],
    "pieter": ["piet", "peer"],
    "gerrit": ["gert", "gerrie"],
    "adrianus": ["ad", "adrie", "arie", "janus"],
    "petrus": ["piety", "peet"],
    "franciscus": ["frans", "frank", "sjors", "cis"],
    "antonius": ["ton", "toon", "anton", "teun"],
    "theodorus": ["theo", "dorus", "ted"],
    "gerardus": ["gerard", "gerrard", "sjaak", "gert-jan"],
    "bernardus": ["ben", "bernard", "bennie", "nardus"],
    "martinus": ["tinus", "martin", "maarten"],
    "nicolaas": ["klaas", "niek", "nico", "nick"],
    "frederik": ["frits", "freek", "frede", "freddy"],
    "marinus": ["rinus", "mario"],
    "leendert": ["leen", "leo"],
    "hermanus": ["herman", "manus"],
    "lambertus": ["bert", "lammert"],
    "josephus": ["jos", "joep", "sjef", "joseph"],
    "christiaan": ["chris", "stiaan"],
    "alexander": ["alex", "lex", "xander"],
    "eduard": ["ed", "eddy", "ward"],
    "leonardus": ["leon", "leonard"],
    "matthijs": ["thijs", "mathijs"],
    "roelof": ["roel", "roelie"],
    "robert": ["rob", "bob", "robbie"],
    "richard": ["rick", "richie"],
    "thomas": ["tom", "thom", "tommy"],
    "benjamin": ["benji", "benny"],
    "jasper": ["jas", "jappie"],
    "sebastian": ["bas", "seb", "basse"],
    "mohammed": ["mo", "momo"],
    # Dutch, female
    "sophia": ["sofie", "fie", "sophie", "sofietje", "sofi"],
    "wilhelmina": ["mien", "willy", "wilma", "mina", "willemien"],
    "margaretha": ["greet", "grietje", "margriet", "gretha", "marga"],
    "elisabeth": [
        "lies", "betty", "liesbeth", "els", "elise", "bep", "lisa", "lisbeth", "lise", "elsebeth",
    ],
    "johanna": ["jo", "joke", "hanna", "hannie", "anneke"],
    "cornelia": ["corrie", "nel", "cootje"],
    "catharina": ["toos", "trijntje", "ina", "katrien", "tina", "rina", "cato"],
    "hendrika": ["riek", "henny", "rika", "drika"],
    "geertruida": ["truus", "geertje", "trudy"],
    "petronella": ["nelleke", "pietje", "petra"],
    "adriana": ["jaantje", "sjaan", "adri"],
    "jacoba": ["coby", "jacobien", "koosje"],
    "helena": ["leni", "lenie", "heleen", "lena"],
    "maria": ["mies", "mieke", "marie", "ria", "marietje", "mia", "maaike"],
    "antonia": ["toni", "antoinette", "tonnie"],
    "francisca": ["francien", "sientje", "cisca"],
    "christina": ["stien", "tineke", "christa"],
    "susanna": ["suus", "suzan", "sanne", "susan", "suze"],
    "dorothea": ["dora", "dorien", "thea", "doortje"],
    "alida": ["aly", "alie", "lida"],
    "paulina": ["paula", "pauline", "lien"],
    "barbara": ["babs", "barbra"],
    "annemarie": ["anne-marie", "annemiek", "marieke"],
    "marianne": ["marian", "marjan", "jans"],
    "theodora": ["teddy", "dorientje"],
    "gerarda": ["gerda", "gerdie"],
    "charlotte": ["lotte", "charlie", "lot", "lottie"],
    "jasmijn": ["jasmine", "mijntje"],
    "isabel": ["isa", "isabelle"],
    "olivia": ["liv", "olive", "livia"],
    "rosalie": ["roos", "rosa"],
    "willemijn": ["pien", "willemientje"],
    "henriëtte": ["jet", "jetje", "henriette", "riet"],
    # Danish, male
    "kristian": ["kris", "kristen", "krist"],
    "christian": ["christen", "chresten", "krelle"],
    "anders": ["ander", "andy"],
    "jørgen": ["jørn", "jørre"],
    "søren": ["sørre", "søge"],
    "peter": ["per", "pelle", "pede"],
    "niels": ["nis", "nisse", "niller"],
    "henrik": ["henne", "henni"],
    "poul": ["paul", "pulle"],
    "mikkel": ["mikke", "mik"],
    "nikolaj": ["nikki", "nikko"],
    "rasmus": ["rasse", "ras"],
    "andreas": ["dreas", "andi"],
    "christoffer": ["chrille", "stoffer", "christopher"],
    "valdemar": ["valde", "valle"],
    "morten": ["molle", "morte"],
    "kenneth": ["kenn", "kenny"],
    "jonathan": ["jon", "jonte"],
    "mathias": ["matti", "mathis"],
    "magnus": ["mange", "magge"],
    # Danish, female
    "margrethe": ["grethe", "grete", "mette", "magga", "maggie"],
    "johanne": ["hanne", "hannelise"],
    "kristine": ["stine", "tine", "kristina"],
    "karen": ["kaja", "kaisa"],
    "caroline": ["carro", "carol"],
    "josefine": ["fine", "josse", "josephine"],
    "mathilde": ["tilde", "tilly", "matilde"],
    "amalie": ["malle", "amy"],
    "cecilie": ["cille", "cecilia", "sille"],
    "katrine": ["katja", "trine", "kat"],
    "victoria": ["vicky", "tori", "viktoria"],
    "isabella": ["bella", "izzy"],
    "ingeborg": ["inge", "inger", "ingebo"],
    "kirstine": ["kirsten", "kirsti"],
    "emilie": ["emmy", "milla", "emily"],
}
# --------------------------------------------------------------------------- name families
# First names a matcher may take for one name: long and short forms and the Dutch, Danish and
# English forms of one name (Willem, Wilhelmus, William, Wim). Beyond NICKNAMES (what people are
# called), these keep two people of one household of the same sex (and twins) from carrying
# names a CDP could merge.
FIRST_NAME_FAMILIES = [
    ["alexander", "sander"], ["aaltje", "alida"], ["anders", "andreas"],
    ["anna", "anne", "anneke", "ans"], ["birgit", "birthe", "britt", "gitte"], ["caroline", "line"],
    ["casper", "jasper", "jesper", "kasper"], ["catharina", "karen", "karin", "katrine", "trijntje"],
    ["christiaan", "christian", "karsten", "kristian"],
    ["christina", "kirsten", "kirstine", "kristine", "stine", "tina"], ["daan", "daniel"],
    ["dorothea", "dorthe", "thea"], ["noor", "nora"],
    ["elisabeth", "els", "else", "ilse", "lisbeth", "lise"], ["joris", "jørgen", "jørn"],
    ["gerard", "gerardus", "gerrit", "gert"], ["gustav", "guus"], ["ellen", "helena", "lene"],
    ["hendrik", "hendrikus", "henk", "henrik"], ["ib", "jacob", "jacobus", "jakob"],
    ["hanne", "hanneke", "johanna", "johanne", "joke"],
    ["hans", "jan", "jens", "johan", "johannes", "john"], ["leendert", "leonardus"],
    ["lucas", "luuk"], ["magnus", "mogens"], ["marco", "marcus", "mark"],
    ["grete", "margrethe", "merete", "mette"], ["maja", "maria", "marie", "ria"],
    ["maarten", "martijn", "martin", "martinus", "morten"],
    ["mads", "mathias", "matthias", "matthijs", "thijs", "ties"],
    ["michael", "michiel", "mike", "mikkel"], ["claus", "klaas", "nicolaas", "niek", "niels"],
    ["palle", "paul", "poul"], ["per", "peter", "petrus", "pieter"],
    ["sofia", "sofie", "sophia", "sophie"], ["sanne", "susanna", "susanne", "suze"],
    ["pim", "wilhelmus", "willem", "william", "wim"],
]

# --------------------------------------------------------------------------- surnames

NL_SURNAMES = [
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
    "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek", "Willems",
    "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal",
    "Prins", "Blom", "Huisman", "Peeters", "de Jonge", "Kuipers", "van Veen", "Post", "Kuiper",
    "Veenstra", "Kramer", "van den Brink", "Scholten", "van Wijk", "Postma", "Martens", "Vink",
    "de Ruiter", "Timmermans", "Groen", "Gerritsen", "Jonker", "van Loon", "Boer", "van der Velde",
    "Willemsen", "Smeets", "de Lange", "de Vos", "Bosch", "van Dongen", "Schipper", "de Koning",
    "van der Laan", "Koning", "van der Velden", "Driessen", "van Doorn", "Hermans", "Evers",
    "van den Bosch", "van der Meulen", "Hofman", "Bosman", "Wolters", "Sanders", "van der Horst",
    "Mol", "Kuijpers", "Molenaar", "van de Pol", "de Leeuw", "Verbeek", "van 't Hof", "ter Horst",
    "ten Brink", "in 't Veld", "Claassen", "Verbruggen", "Aarts", "Wouters", "Brink", "Boon",
    "van Os", "Lammers", "Heijnen", "Jongman", "van Rijn", "Zwart", "Westerhof", "Kaya", "Yilmaz",
    "El Idrissi", "Pranoto", "Çelik", "Bouzid", "Noordhoek", "Oosterhuis", "Hoogland", "Terpstra",
    "Wijnands",
]
DK_SURNAMES = [
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen",
    "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen", "Jakobsen", "Jacobsen",
    "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen", "Lund", "Schmidt", "Eriksen",
    "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen", "Andreasen", "Iversen", "Jeppesen",
    "Vestergaard", "Mogensen", "Nissen", "Lauridsen", "Kjær", "Jespersen", "Søndergaard",
    "Bertelsen", "Nørgaard", "Jepsen", "Dahl", "Østergaard", "Berg", "Damgaard", "Thygesen", "Bach",
    "Kjeldsen", "Friis", "Gregersen", "Lassen", "Carlsen", "Bruun", "Kofoed", "Skov", "Bang",
    "Juhl", "Mathiasen", "Winther", "Overgaard", "Bech", "Toft", "Ravn", "Krogh", "Brandt",
    "Højgaard", "Bjerre", "Dam", "Lind", "Holst", "Kruse", "Gade", "Kirkegaard", "Vinther",
    "Mølgaard", "Abildgaard", "Lykke", "Enevoldsen", "Bøgh", "Storgaard", "Bendtsen", "Ladefoged",
    "Frandsen",
]

# Dutch surname particles (tussenvoegsels), longest first so "van der" wins over "van".
PARTICLES = [
    "van der", "van den", "van de", "van 't", "in 't", "op de", "van", "de", "den", "ter", "ten",
    "te", "'t",
]

# --------------------------------------------------------------------------- places
# (city, postcode_low, postcode_high, landline area code, weight, aliases)

NL_CITIES = [
    ("Amsterdam", 1011, 1109, "20", 9.0, ["A'dam"]),
    ("Rotterdam", 3011, 3089, "10", 6.5, []),
    ("Den Haag", 2491, 2599, "70", 5.5, ["'s-Gravenhage"]),
    ("Utrecht", 3511, 3585, "30", 3.6, []),
    ("Eindhoven", 5611, 5658, "40", 2.4, []),
    ("Groningen", 9711, 9747, "50", 2.3, []),
    ("Tilburg", 5011, 5049, "13", 2.2, []),
    ("Almere", 1311, 1363, "36", 2.1, []),
    ("Breda", 4811, 4839, "76", 1.9, []),
    ("Nijmegen", 6511, 6546, "24", 1.8, []),
    ("Apeldoorn", 7311, 7339, "55", 1.7, []),
    ("Haarlem", 2011, 2037, "23", 1.7, []),
    ("Arnhem", 6811, 6846, "26", 1.6, []),
    ("Enschede", 7511, 7548, "53", 1.6, []),
    ("Amersfoort", 3811, 3829, "33", 1.6, []),
    ("Zaandam", 1501, 1509, "75", 1.1, []),
    ("'s-Hertogenbosch", 5211, 5237, "73", 1.6, ["Den Bosch"]),
    ("Zwolle", 8011, 8043, "38", 1.3, []),
    ("Leiden", 2311, 2334, "71", 1.3, []),
    ("Maastricht", 6211, 6229, "43", 1.2, []),
    ("Dordrecht", 3311, 3319, "78", 1.2, []),
    ("Zoetermeer", 2711, 2729, "79", 1.2, []),
    ("Leeuwarden", 8911, 8939, "58", 1.2, []),
    ("Delft", 2611, 2629, "15", 1.0, []),
    ("Alkmaar", 1811, 1827, "72", 1.1, []),
    ("Hilversum", 1211, 1223, "35", 0.9, []),
    ("Heerlen", 6411, 6436, "45", 0.9, []),
    ("Venlo", 5911, 5928, "77", 0.9, []),
    ("Deventer", 7411, 7429, "570", 1.0, []),
    ("Helmond", 5701, 5709, "492", 0.9, []),
    ("Gouda", 2801, 2809, "182", 0.7, []),
    ("Emmen", 7811, 7833, "591", 0.8, []),
    ("Assen", 9401, 9409, "592", 0.7, []),
    ("Roosendaal", 4701, 4709, "165", 0.7, []),
    ("Hoorn", 1621, 1628, "229", 0.7, []),
    ("Middelburg", 4331, 4338, "118", 0.5, []),
    ("Purmerend", 1441, 1448, "299", 0.8, []),
    ("Amstelveen", 1181, 1189, "20", 0.9, []),
    ("Schiedam", 3111, 3125, "10", 0.7, []),
    ("Vlaardingen", 3131, 3138, "10", 0.6, []),
]
DK_CITIES = [
    ("København K", 1050, 1473, None, 3.0, ["Copenhagen", "Kbh K"]),
    ("København V", 1550, 1799, None, 2.2, ["Copenhagen V", "Kbh V"]),
    ("København Ø", 2100, 2100, None, 2.4, ["Kbh Ø"]),
    ("København N", 2200, 2200, None, 2.4, ["Kbh N"]),
    ("København S", 2300, 2300, None, 2.4, ["Kbh S"]),
    ("København NV", 2400, 2400, None, 1.6, ["Kbh NV"]),
    ("Frederiksberg", 1800, 2000, None, 2.8, ["Frederiksberg C"]),
    ("Valby", 2500, 2500, None, 1.4, []),
    ("Hellerup", 2900, 2900, None, 0.9, []),
    ("Kongens Lyngby", 2800, 2800, None, 1.2, ["Lyngby"]),
    ("Ballerup", 2750, 2750, None, 1.0, []),
    ("Glostrup", 2600, 2600, None, 0.6, []),
    ("Taastrup", 2630, 2630, None, 0.8, []),
    ("Aarhus C", 8000, 8000, None, 3.2, ["Århus C"]),
    ("Aarhus N", 8200, 8200, None, 1.5, ["Århus N"]),
    ("Odense C", 5000, 5000, None, 2.4, []),
    ("Aalborg", 9000, 9000, None, 2.4, ["Ålborg"]),
    ("Esbjerg", 6700, 6700, None, 1.5, []),
    ("Randers", 8900, 8900, None, 1.3, []),
    ("Kolding", 6000, 6000, None, 1.3, []),
    ("Horsens", 8700, 8700, None, 1.3, []),
    ("Vejle", 7100, 7100, None, 1.3, []),
    ("Roskilde", 4000, 4000, None, 1.2, []),
    ("Herning", 7400, 7400, None, 1.1, []),
    ("Silkeborg", 8600, 8600, None, 1.0, []),
    ("Næstved", 4700, 4700, None, 1.0, []),
    ("Fredericia", 7000, 7000, None, 0.9, []),
    ("Viborg", 8800, 8800, None, 0.9, []),
    ("Køge", 4600, 4600, None, 0.9, []),
    ("Holstebro", 7500, 7500, None, 0.8, []),
    ("Slagelse", 4200, 4200, None, 0.8, []),
    ("Hillerød", 3400, 3400, None, 0.8, []),
    ("Helsingør", 3000, 3000, None, 0.9, []),
    ("Sønderborg", 6400, 6400, None, 0.7, []),
    ("Svendborg", 5700, 5700, None, 0.6, []),
    ("Hjørring", 9800, 9800, None, 0.6, []),
    ("Frederikshavn", 9900, 9900, None, 0.6, []),
    ("Haderslev", 6100, 6100, None, 0.6, []),
    ("Skive", 7800, 7800, None, 0.5, []),
    ("Ringsted", 4100, 4100, None, 0.5, []),
]

NL_STREETS = [
    "Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Stationsstraat", "Hoofdstraat",
    "Julianastraat", "Wilhelminastraat", "Beatrixstraat", "Emmastraat", "Nieuwstraat", "Markt",
    "Molenstraat", "Kastanjelaan", "Eikenlaan", "Lindelaan", "Beukenlaan", "Prinses Irenestraat",
    "Oranjestraat", "Parallelweg", "Industrieweg", "Sportlaan", "Vondelstraat", "Rembrandtlaan",
    "Van Goghstraat", "Tulpstraat", "Rozenstraat", "Sluisweg", "Dijkweg", "Havenstraat", "Zandweg",
    "Kanaalweg", "Prins Bernhardlaan", "Koningin Julianalaan", "Meidoornlaan", "Acacialaan",
    "Populierenlaan", "Esdoornstraat", "Brinkstraat", "Veldweg", "Heuvelweg", "Boschstraat",
    "Nieuweweg", "Raadhuisstraat", "Spoorstraat", "Burgemeester Jansenlaan", "Achterweg",
    "Stationsweg", "Marktstraat", "Klaverstraat", "Zonnebloemstraat", "Berkenlaan", "Wilgenlaan",
    "Lijsterstraat", "Merelstraat", "Zwanenlaan", "Rijksstraatweg", "Oude Gracht", "Nieuwe Gracht",
    "Singel", "Herengracht", "Keizersgracht", "Weverstraat", "Bakkerstraat", "Smidsweg",
    "Schepenenlaan", "Tuinstraat", "Ringweg", "Noordeinde", "Zuideinde", "Westerstraat",
    "Oosterstraat", "Vijverlaan", "Park Boschzicht", "Hofstraat", "Kloosterstraat",
    "Laan van Meerdervoort", "Johan de Wittlaan", "Willem de Zwijgerlaan", "Plein 1944",
]
DK_STREETS = [
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Storegade", "Jernbanegade", "Skolevej",
    "Kirkevej", "Møllevej", "Bakkevej", "Skovvej", "Strandvejen", "Engvej", "Havnegade", "Algade",
    "Torvet", "Parkvej", "Rosenvænget", "Birkevej", "Egevej", "Bøgevej", "Lindevej", "Ahornvej",
    "Åboulevarden", "Frederiksberg Allé", "Amagerbrogade", "Nørrebrogade", "Vesterbrogade",
    "Østerbrogade", "Gammel Kongevej", "H.C. Andersens Boulevard", "Kongensgade", "Dronningensgade",
    "Grønnegade", "Tværgade", "Solvej", "Fasanvej", "Kastanievej", "Hybenvej", "Syrenvej",
    "Tjørnevej", "Elmevej", "Granvej", "Fyrrevej", "Stationsvej", "Nygade", "Adelgade", "Bredgade",
    "Klostergade", "Slotsgade", "Vænget", "Engtoften", "Agerhaven", "Marienlystvej", "Vibevej",
    "Lærkevej", "Svanevej", "Mågevej", "Rådhusstræde", "Skt. Pauls Gade",
]

# --------------------------------------------------------------------------- e-mail
# (domain, weight)
NL_EMAIL_DOMAINS = [
    ("gmail.com", 30),
    ("hotmail.com", 16),
    ("outlook.com", 9),
    ("ziggo.nl", 7),
    ("kpnmail.nl", 5),
    ("live.nl", 5),
    ("hotmail.nl", 5),
    ("icloud.com", 5),
    ("xs4all.nl", 2),
    ("planet.nl", 2),
    ("home.nl", 2),
    ("yahoo.com", 3),
    ("upcmail.nl", 1.5),
    ("hetnet.nl", 1.5),
    ("casema.nl", 1),
    ("live.com", 2),
]
DK_EMAIL_DOMAINS = [
    ("gmail.com", 32),
    ("hotmail.com", 14),
    ("outlook.dk", 8),
    ("live.dk", 8),
    ("mail.dk", 6),
    ("jubii.dk", 4),
    ("yahoo.dk", 4),
    ("icloud.com", 6),
    ("stofanet.dk", 2),
    ("webspeed.dk", 1.5),
    ("mail.tele.dk", 2),
    ("youmail.dk", 1.5),
    ("hotmail.dk", 4),
]
NL_FAMILY_DOMAINS = [
    "ziggo.nl", "kpnmail.nl", "hetnet.nl", "planet.nl", "home.nl", "xs4all.nl",
]
DK_FAMILY_DOMAINS = [
    "mail.dk", "stofanet.dk", "mail.tele.dk", "jubii.dk", "youmail.dk",
]

# Hobby-style local parts: e-mail addresses that carry no name at all.
NL_HANDLES = [
    "zonnetje", "voetbalfan", "kattenmens", "tulpje", "fietser", "ajaxfan", "hockeymama",
    "bloemetje", "zeilfan", "snoepje", "tijgertje", "kaaskop", "boekenwurm", "wandelaar",
    "muziekfan", "feyenoorder", "duinpieper", "kabouter", "strandjutter", "paardenmeisje",
]
DK_HANDLES = [
    "solstraale", "fodboldfan", "hyggemor", "viking", "kattemor", "cykelglad", "bogorm", "fcfan",
    "sejler", "stjerneskud", "lystfisker", "havemand", "rejsefan", "musikglad",
]

# Junk values seen in real exports (placeholders typed to get past a required field).
JUNK_EMAILS = [
    "test@test.com", "noreply@example.com", "n/a", "-", "unknown", "geen@geen.nl", "x@x.com",
]
JUNK_PHONES = [
    "0000000000", "n/a", "-", "unknown", "0600000000", "12345678",
]
# fmt: on
