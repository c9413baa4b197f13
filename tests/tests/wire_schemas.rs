//! Our hand-written `.proto` files against Hadoop's own schemas (of the release under test,
//! `SPINDLE_HADOOP_VERSION`: the version matrix runs this on 3.5.0, 3.4.2 and 3.3.6): every
//! message we declare must exist in Hadoop under the same full name, and every field we declare
//! must have Hadoop's number, type, label and (for message and enum fields) type name. We may leave
//! fields out, never change them. Enum values likewise. An older release may lack something we
//! declare only where [`LACKING`] says so and why Spindle does not need it there. Hadoop's schemas
//! come from the descriptors embedded in its generated Java classes (a Java peer writes them as a
//! FileDescriptorSet).

use std::collections::HashMap;
use std::path::PathBuf;

use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use spindle_tests::{hadoop_version, java_ok, repo_root};

/// What an older Hadoop release lacks of our declarations, as `differences` words it, and why
/// Spindle does without it there.
const LACKING: &[(&str, &str, &str)] = &[(
    "3.3.6",
    ".hadoop.hdfs.StorageTypeProto.NVDIMM = 6: not in Hadoop's enum",
    // The NVDIMM storage type came in 3.4.0 (HDFS-15025). Spindle only decodes storage types from
    // the NameNode's answers (a 3.3 NameNode never sends 6) and never asks for one.
    "a storage type Spindle only receives",
)];

/// Full name (`.pkg.Msg`, `.pkg.Msg.Nested`) -> message, for every message of a set.
fn messages(set: &FileDescriptorSet) -> HashMap<String, DescriptorProto> {
    fn walk(prefix: &str, m: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", m.name());
        for n in &m.nested_type {
            walk(&name, n, out);
        }
        out.insert(name, m.clone());
    }
    let mut out = HashMap::new();
    for f in &set.file {
        for m in &f.message_type {
            walk(&format!(".{}", f.package()), m, &mut out);
        }
    }
    out
}

fn enums(set: &FileDescriptorSet) -> HashMap<String, EnumDescriptorProto> {
    fn walk(prefix: &str, m: &DescriptorProto, out: &mut HashMap<String, EnumDescriptorProto>) {
        let name = format!("{prefix}.{}", m.name());
        for e in &m.enum_type {
            out.insert(format!("{name}.{}", e.name()), e.clone());
        }
        for n in &m.nested_type {
            walk(&name, n, out);
        }
    }
    let mut out = HashMap::new();
    for f in &set.file {
        let pkg = format!(".{}", f.package());
        for e in &f.enum_type {
            out.insert(format!("{pkg}.{}", e.name()), e.clone());
        }
        for m in &f.message_type {
            walk(&pkg, m, &mut out);
        }
    }
    out
}

/// Our `proto/hadoop/*.proto`, compiled by protox exactly as the build does.
fn ours() -> FileDescriptorSet {
    let root = repo_root().join("proto");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("hadoop"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let fds = protox::compile(&files, [&root]).unwrap();
    // Only our own files (protox includes no others here, but be explicit).
    FileDescriptorSet {
        file: fds
            .file
            .into_iter()
            .filter(|f| f.name().starts_with("hadoop/"))
            .collect(),
    }
}

/// Hadoop's schemas, from the jars of the release under test.
fn hadoops() -> FileDescriptorSet {
    let out =
        std::env::temp_dir().join(format!("spindle-hadoop-schemas-{}.pb", std::process::id()));
    java_ok("dev.spindle.peers.WireSchemas", &[out.to_str().unwrap()]);
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    FileDescriptorSet::decode(bytes.as_slice()).unwrap()
}

/// Every difference between our message/enum declarations and Hadoop's, one line each.
fn differences(ours: &FileDescriptorSet, theirs: &FileDescriptorSet) -> (Vec<String>, usize) {
    let hadoop_msgs = messages(theirs);
    let hadoop_enums = enums(theirs);
    let mut diffs = Vec::new();
    let mut checked_fields = 0;
    let mut our_msgs: Vec<_> = messages(ours).into_iter().collect();
    our_msgs.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, ours) in &our_msgs {
        let Some(theirs) = hadoop_msgs.get(name) else {
            diffs.push(format!("{name}: no message of this name in Hadoop"));
            continue;
        };
        for f in &ours.field {
            checked_fields += 1;
            let Some(t) = theirs.field.iter().find(|t| t.number() == f.number()) else {
                diffs.push(format!(
                    "{name}.{} = {}: Hadoop has no field {}",
                    f.name(),
                    f.number(),
                    f.number()
                ));
                continue;
            };
            let what = |x: &prost_types::FieldDescriptorProto| {
                format!(
                    "{} {:?} {:?} {}",
                    x.name(),
                    x.label(),
                    x.r#type(),
                    x.type_name()
                )
            };
            if what(f) != what(t) {
                diffs.push(format!(
                    "{name} field {}: ours `{}`, Hadoop's `{}`",
                    f.number(),
                    what(f),
                    what(t)
                ));
            }
        }
    }
    let mut our_enums: Vec<_> = enums(ours).into_iter().collect();
    our_enums.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, ours) in &our_enums {
        let Some(theirs) = hadoop_enums.get(name) else {
            diffs.push(format!("{name}: no enum of this name in Hadoop"));
            continue;
        };
        for v in &ours.value {
            if !theirs
                .value
                .iter()
                .any(|t| t.name() == v.name() && t.number() == v.number())
            {
                diffs.push(format!(
                    "{name}.{} = {}: not in Hadoop's enum",
                    v.name(),
                    v.number()
                ));
            }
        }
    }
    (diffs, checked_fields)
}

#[test]
fn every_message_we_declare_matches_hadoops() {
    let version = hadoop_version();
    let ours = ours();
    let theirs = hadoops();
    assert!(
        theirs.file.len() >= 10,
        "only {} Hadoop files",
        theirs.file.len()
    );
    let (mut diffs, fields) = differences(&ours, &theirs);
    // Each allowed lack must still be one (a stale entry would hide nothing and mislead).
    for (v, lack, _why) in LACKING.iter().filter(|(v, ..)| *v == version) {
        let at = diffs.iter().position(|d| d == lack);
        assert!(at.is_some(), "Hadoop {v} no longer lacks: {lack}");
        diffs.remove(at.unwrap());
    }
    assert!(
        diffs.is_empty(),
        "{} differences from Hadoop {version}:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(fields > 200, "only {fields} fields compared");

    // The check itself catches a wrong number, type and label.
    let mut broken = ours.clone();
    let msg = broken
        .file
        .iter_mut()
        .flat_map(|f| f.message_type.iter_mut())
        .find(|m| m.name() == "ContainerStatusProto")
        .expect("ContainerStatusProto is declared");
    msg.field[0].number = Some(99);
    msg.field[1].r#type = Some(prost_types::field_descriptor_proto::Type::Int64 as i32);
    msg.field[2].label = Some(prost_types::field_descriptor_proto::Label::Required as i32);
    let (diffs, _) = differences(&broken, &theirs);
    let lacks = LACKING.iter().filter(|(v, ..)| *v == version).count();
    assert_eq!(diffs.len(), 3 + lacks, "{diffs:#?}");
}
