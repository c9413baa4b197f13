//! Joins `ID,NAME` lines with `ID,AMOUNT` lines:
//! `join PEOPLE ORDERS OUTPUT` writes `ID,NAME,AMOUNT` for every match (inner
//! join) into OUTPUT/inner and `ID,NAME,AMOUNT|-` (left outer join) into OUTPUT/left.

fn parse(line: String) -> Option<(u64, String)> {
    let (id, rest) = line.split_once(',')?;
    Some((id.trim().parse().ok()?, rest.trim().to_string()))
}

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let (Some(people), Some(orders), Some(out)) = (args.first(), args.get(1), args.get(2))
        else {
            spindle_examples::usage("join PEOPLE ORDERS OUTPUT")
        };
        let people = ctx.text_file(people, None)?.flat_map(parse);
        let orders = ctx
            .text_file(orders, None)?
            .flat_map(parse)
            .flat_map(|(id, amount)| amount.parse::<u64>().ok().map(|a| (id, a)));
        people
            .join(&orders)
            .map(|(id, (name, amount))| format!("{id},{name},{amount}"))
            .save_as_text_file(&format!("{out}/inner"))?;
        people
            .left_outer_join(&orders)
            .map(|(id, (name, amount))| match amount {
                Some(a) => format!("{id},{name},{a}"),
                None => format!("{id},{name},-"),
            })
            .save_as_text_file(&format!("{out}/left"))?;
        Ok(())
    })
}
