package dev.spindle.minihadoop;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.security.PrivilegedExceptionAction;
import java.util.Properties;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.minikdc.MiniKdc;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * The secure mini-Hadoop ({@code deploy/mini-hadoop --secure}): Hadoop's test KDC (MiniKdc) in this
 * JVM, a principal and keytab per daemon kind and one for the user, a {@code krb5.conf} for
 * clients, and the settings that make every daemon require Kerberos.
 *
 * <p>The NameNode, the DataNodes and the ResourceManager share this JVM, and Hadoop keeps one
 * static login user per JVM: each daemon's own keytab login replaces the previous one, and an RPC
 * server with no caller identity on its threads answers SASL as whoever logged in last. So each
 * of them is started inside {@link #as} its own login: the threads it creates inherit that
 * identity, and its RPC servers present its own principal. The JVM's login user, which code
 * outside those threads uses, ends up the RM's (see {@link #loginJvm}). The NodeManagers run in
 * JVMs of their own and log in as Hadoop does.
 */
final class Kerberos {
  /** Daemon kinds with a principal {@code <kind>/localhost} and a keytab {@code <kind>.keytab}. */
  static final String NAMENODE = "nn";
  static final String DATANODE = "dn";
  static final String RESOURCEMANAGER = "rm";
  static final String NODEMANAGER = "nm";
  static final String SPNEGO = "HTTP";
  /** The host part of every service principal: all daemons run on loopback as {@code localhost}. */
  static final String HOST = "localhost";

  final MiniKdc kdc;
  final String realm;
  final File keytabDir;
  /** The user's principal: the operating system user, so HDFS home and YARN's user match it. */
  final String userPrincipal;
  final File userKeytab;
  final File krb5Conf;
  final String rpcProtection;

  private Kerberos(MiniKdc kdc, File keytabDir, String user, File userKeytab, File krb5Conf, String rpcProtection) {
    this.kdc = kdc;
    this.realm = kdc.getRealm();
    this.keytabDir = keytabDir;
    this.userPrincipal = user + "@" + realm;
    this.userKeytab = userKeytab;
    this.krb5Conf = krb5Conf;
    this.rpcProtection = rpcProtection;
  }

  /**
   * Starts the KDC under {@code <work-dir>/kdc} (a fresh database each start: keytabs from an
   * earlier run would not match it), creates the principals and keytabs, and writes the client's
   * {@code krb5.conf} and the user's keytab into the conf dir.
   */
  static Kerberos start(File workDir, File confDir, String rpcProtection, int ticketLifetimeSec)
      throws Exception {
    File dir = new File(workDir, "kdc");
    Main.deleteTree(dir);
    Files.createDirectories(dir.toPath());
    Properties kdcConf = MiniKdc.createConf();
    kdcConf.setProperty(MiniKdc.KDC_BIND_ADDRESS, HOST);
    if (ticketLifetimeSec > 0) {
      // --ticket-lifetime: every ticket the KDC issues (daemons' and users') ends this soon.
      kdcConf.setProperty(MiniKdc.MAX_TICKET_LIFETIME, Long.toString(ticketLifetimeSec * 1000L));
      kdcConf.setProperty(MiniKdc.MAX_RENEWABLE_LIFETIME, Long.toString(ticketLifetimeSec * 1000L));
    }
    MiniKdc kdc = new MiniKdc(kdcConf, dir);
    kdc.start();
    File keytabs = new File(dir, "keytabs");
    Files.createDirectories(keytabs.toPath());
    for (String kind : new String[] {NAMENODE, DATANODE, RESOURCEMANAGER, NODEMANAGER, SPNEGO}) {
      kdc.createPrincipal(new File(keytabs, kind + ".keytab"), kind + "/" + HOST);
    }
    String user = System.getProperty("user.name");
    File userKeytab = new File(confDir, user + ".keytab");
    Files.deleteIfExists(userKeytab.toPath());
    kdc.createPrincipal(userKeytab, user);
    File krb5 = new File(confDir, "krb5.conf");
    Main.writeAtomically(krb5, krb5Conf(kdc, ticketLifetimeSec));
    return new Kerberos(kdc, keytabs, user, userKeytab, krb5, rpcProtection);
  }

  /**
   * The client's krb5.conf, for Java ({@code -Djava.security.krb5.conf}) and MIT Kerberos
   * ({@code KRB5_CONFIG}) alike: TCP only (the KDC listens on TCP), no DNS, AES only (JDK 17 has
   * neither DES3 nor RC4).
   */
  static String krb5Conf(MiniKdc kdc, int ticketLifetimeSec) {
    String r = kdc.getRealm();
    String enctypes = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96";
    return String.join(
        "\n",
        "[libdefaults]",
        "    default_realm = " + r,
        "    udp_preference_limit = 1",
        "    dns_lookup_kdc = false",
        "    dns_lookup_realm = false",
        "    dns_canonicalize_hostname = false",
        "    rdns = false",
        "    forwardable = true",
        "    ticket_lifetime = " + (ticketLifetimeSec > 0 ? ticketLifetimeSec + "s" : "24h"),
        "    renew_lifetime = " + (ticketLifetimeSec > 0 ? ticketLifetimeSec + "s" : "7d"),
        "    default_tkt_enctypes = " + enctypes,
        "    default_tgs_enctypes = " + enctypes,
        "    permitted_enctypes = " + enctypes,
        "",
        "[realms]",
        "    " + r + " = {",
        "        kdc = " + kdc.getHost() + ":" + kdc.getPort(),
        "    }",
        "",
        "[domain_realm]",
        "    " + HOST + " = " + r,
        "");
  }

  String principal(String kind) {
    return kind + "/" + HOST + "@" + realm;
  }

  String keytab(String kind) {
    return new File(keytabDir, kind + ".keytab").getAbsolutePath();
  }

  /** The settings of a secure cluster; docs/mini-hadoop.md explains each. */
  void apply(Configuration c) {
    // --- Kerberos everywhere, service-level authorization on ---
    c.set("hadoop.security.authentication", "kerberos");
    c.setBoolean("hadoop.security.authorization", true);
    c.set("hadoop.rpc.protection", rpcProtection);
    // Daemons log in again from their keytabs before their tickets end (a short --ticket-lifetime).
    c.setBoolean("hadoop.kerberos.keytab.login.autorenewal.enabled", true);
    // Service principals map to the accounts a real cluster runs them as (hdfs, yarn); any other
    // principal of the realm maps to its first component, so <user>@REALM is the OS user. That
    // is what DEFAULT does too, but DEFAULT needs the default realm, so a krb5.conf, which
    // container JVMs lack (they find no /etc/krb5.conf here, as they would on a real host).
    String re = realm.replace(".", "\\.");
    c.set(
        "hadoop.security.auth_to_local",
        String.join(
            "\n",
            // (A rule's pattern cannot hold parentheses: Hadoop's rule syntax ends it at ')'.)
            "RULE:[2:$1@$0]([nd]n@" + re + ")s/.*/hdfs/",
            "RULE:[2:$1@$0]([rn]m@" + re + ")s/.*/yarn/",
            "RULE:[1:$1@$0](.*@" + re + ")s/@.*//",
            "RULE:[2:$1@$0](.*@" + re + ")s/@.*//",
            "DEFAULT"));
    // The user is an HDFS superuser, as the OS user is on the open mini-Hadoop (there it started
    // the NameNode); hdfs and yarn too. No OS accounts or groups are needed for that.
    String user = userPrincipal.substring(0, userPrincipal.indexOf('@'));
    c.set(
        "hadoop.user.group.static.mapping.overrides",
        "dr.who=;" + user + "=supergroup;hdfs=supergroup;yarn=supergroup");
    // The user may act for anyone from anywhere (spindle submit --proxy-user).
    c.set("hadoop.proxyuser." + user + ".hosts", "*");
    c.set("hadoop.proxyuser." + user + ".groups", "*");
    c.set("hadoop.proxyuser." + user + ".users", "*");

    // --- HDFS ---
    c.set("dfs.namenode.kerberos.principal", principal(NAMENODE));
    c.set("dfs.namenode.keytab.file", keytab(NAMENODE));
    c.set("dfs.datanode.kerberos.principal", principal(DATANODE));
    c.set("dfs.datanode.keytab.file", keytab(DATANODE));
    c.set("dfs.web.authentication.kerberos.principal", principal(SPNEGO));
    c.set("dfs.web.authentication.kerberos.keytab", keytab(SPNEGO));
    c.setBoolean("dfs.block.access.token.enable", true);
    // SASL on the data transfer protocol, at the RPC protection level; with it a secure DataNode
    // needs no privileged ports, given this switch (otherwise it also wants HTTPS).
    c.set("dfs.data.transfer.protection", rpcProtection);
    c.setBoolean("ignore.secure.ports.for.testing", true);
    c.set("dfs.http.policy", "HTTP_ONLY");

    // --- YARN ---
    c.set("yarn.resourcemanager.principal", principal(RESOURCEMANAGER));
    c.set("yarn.resourcemanager.keytab", keytab(RESOURCEMANAGER));
    c.set("yarn.nodemanager.principal", principal(NODEMANAGER));
    c.set("yarn.nodemanager.keytab", keytab(NODEMANAGER));
    c.set("yarn.resourcemanager.webapp.spnego-principal", principal(SPNEGO));
    c.set("yarn.resourcemanager.webapp.spnego-keytab-file", keytab(SPNEGO));
    c.set("yarn.nodemanager.webapp.spnego-principal", principal(SPNEGO));
    c.set("yarn.nodemanager.webapp.spnego-keytab-file", keytab(SPNEGO));
    // Containers find the KDC on a host without /etc/krb5.conf: MIT Kerberos clients through
    // KRB5_CONFIG, Java ones (which ignore it) through java.security.krb5.conf in
    // JAVA_TOOL_OPTIONS, which every JVM reads (a container JVM's own options are its app's).
    c.set(
        "yarn.nodemanager.admin-env",
        "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX,KRB5_CONFIG="
            + krb5Conf.getAbsolutePath()
            + ",JAVA_TOOL_OPTIONS=-Djava.security.krb5.conf="
            + krb5Conf.getAbsolutePath());

    // --- SPNEGO on every web endpoint (RM, NodeManagers, NameNode, DataNodes) ---
    c.set(
        "hadoop.http.filter.initializers",
        "org.apache.hadoop.security.AuthenticationFilterInitializer");
    c.set("hadoop.http.authentication.type", "kerberos");
    c.setBoolean("hadoop.http.authentication.simple.anonymous.allowed", false);
    c.set("hadoop.http.authentication.kerberos.principal", principal(SPNEGO));
    c.set("hadoop.http.authentication.kerberos.keytab", keytab(SPNEGO));
  }

  /**
   * Switches this JVM's UserGroupInformation to the secure configuration {@code c}. The first
   * initialization also fixes the JVM's group mapping (the static overrides above), so it is made
   * from {@code c}. SecureIOUtils, which reads container logs for log aggregation and the
   * NodeManager's log pages, refuses for the rest of the JVM's life to load once it sees Kerberos
   * on without Hadoop's native library (libhadoop, not on Maven Central): load it before.
   * (deploy/mini-hadoop --secure puts a stand-in for it first on the class path, which needs no
   * libhadoop; see deploy/src/secure-io.)
   */
  static void enableSecurity(Configuration c) throws ClassNotFoundException {
    Configuration simple = new Configuration(c);
    simple.set("hadoop.security.authentication", "simple");
    UserGroupInformation.setConfiguration(simple);
    Class.forName("org.apache.hadoop.io.SecureIOUtils", true, Kerberos.class.getClassLoader());
    UserGroupInformation.setConfiguration(c);
  }

  /** JVM options a NodeManager's JVM needs to find the KDC. */
  String jvmOption() {
    return "-Djava.security.krb5.conf=" + krb5Conf.getAbsolutePath();
  }

  /**
   * Runs {@code action} as daemon {@code kind}, logged in from its keytab; threads it starts keep
   * that identity (see the class comment).
   */
  <T> T as(String kind, PrivilegedExceptionAction<T> action) throws Exception {
    UserGroupInformation ugi =
        UserGroupInformation.loginUserFromKeytabAndReturnUGI(principal(kind), keytab(kind));
    return ugi.doAs(action);
  }

  /**
   * Makes daemon {@code kind} this JVM's login user ({@code UserGroupInformation.getLoginUser()}),
   * which code outside any {@link #as} uses, e.g. the RM's delegation-token renewer.
   */
  void loginJvm(String kind) throws IOException {
    UserGroupInformation.loginUserFromKeytab(principal(kind), keytab(kind));
  }
}
