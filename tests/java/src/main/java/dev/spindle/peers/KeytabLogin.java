package dev.spindle.peers;

import java.security.PrivilegedExceptionAction;
import java.util.Arrays;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * Runs another peer logged in to Kerberos from a keytab, as a Hadoop client on a secure cluster
 * does (UserGroupInformation.loginUserFromKeytab).
 * Usage: KeytabLogin PRINCIPAL KEYTAB CLASS [ARGS...]. Prints "login <user> <short name>" first.
 * The KDC comes from -Djava.security.krb5.conf.
 */
public final class KeytabLogin {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: KeytabLogin PRINCIPAL KEYTAB CLASS [ARGS...]");
      System.exit(2);
    }
    UserGroupInformation.setConfiguration(new Configuration());
    UserGroupInformation.loginUserFromKeytab(args[0], args[1]);
    UserGroupInformation ugi = UserGroupInformation.getLoginUser();
    System.out.println("login " + ugi.getUserName() + " " + ugi.getShortUserName());
    Class<?> peer = Class.forName(args[2]);
    String[] rest = Arrays.copyOfRange(args, 3, args.length);
    ugi.doAs(
        (PrivilegedExceptionAction<Void>)
            () -> {
              peer.getMethod("main", String[].class).invoke(null, (Object) rest);
              return null;
            });
  }
}
