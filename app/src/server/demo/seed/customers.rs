//! The made-up people: names and addresses drawn from short lists, so the demo reads like a
//! customer base without being anyone's real data.

use rand::rngs::StdRng;
use rand::Rng;

const FIRST: [&str; 24] = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Linus",
    "Guido",
    "Frances",
    "Radia",
    "Hedy",
    "Katherine",
    "Tim",
    "Leslie",
    "Niklaus",
    "Shafi",
    "Martin",
    "Jean",
    "Sophie",
    "Mary",
    "Anita",
    "Evelyn",
    "Joan",
];
const LAST: [&str; 24] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Torvalds",
    "Rossum",
    "Allen",
    "Perlman",
    "Lamarr",
    "Johnson",
    "Berners",
    "Lamport",
    "Wirth",
    "Goldwasser",
    "Hellman",
    "Sammet",
    "Wilson",
    "Keller",
    "Borg",
    "Clarke",
    "Conway",
];
const DOMAINS: [&str; 6] = [
    "acme.test",
    "globex.test",
    "initech.test",
    "umbrella.test",
    "hooli.test",
    "example.com",
];

/// Customer `i`'s name and email; the email carries `i`, so two people with the same name
/// still have different addresses.
pub(super) fn person(rng: &mut StdRng, i: usize) -> (String, String) {
    let (first, last) = (
        FIRST[rng.gen_range(0..FIRST.len())],
        LAST[rng.gen_range(0..LAST.len())],
    );
    let email = format!(
        "{}.{}{i}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        DOMAINS[rng.gen_range(0..DOMAINS.len())]
    );
    (format!("{first} {last}"), email)
}
