using System.Collections;
using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace SecretsCache;

/// <summary>
/// Ready-made tests for "the database or API refused this credential", for <see cref="RotationOptions.IsAuthenticationFailure"/>.
/// They match error codes, not driver types, so this package takes no driver dependency: <see cref="DbException.SqlState"/>,
/// the numbers drivers put in <see cref="Exception.Data"/> or <see cref="ExternalException.ErrorCode"/>, and as a last resort a
/// fixed, unlocalized message prefix. Each looks through inner exceptions (and <see cref="AggregateException"/>s). No reflection.
/// </summary>
public static class AuthenticationFailurePredicates
{
    private const int MaxDepth = 16;

    /// <summary>
    /// PostgreSQL (Npgsql's <c>PostgresException</c>): SQLSTATE <c>28P01</c> (invalid_password) or <c>28000</c>
    /// (invalid_authorization_specification, which MySQL also reports for error 1045).
    /// </summary>
    public static bool PostgreSql(Exception exception) => InChain(exception, static e => e is DbException { SqlState: "28P01" or "28000" });

    /// <summary>
    /// MySQL and MariaDB (MySqlConnector and MySql.Data): server error 1045 (ER_ACCESS_DENIED_ERROR), read from
    /// <c>Data["Server Error Code"]</c>, which both drivers set, or from <see cref="ExternalException.ErrorCode"/>.
    /// </summary>
    public static bool MySql(Exception exception) => InChain(exception, static e =>
        DataNumber(e, "Server Error Code") == 1045
        || e is DbException { ErrorCode: 1045 }
        || (e is DbException && e.GetType().Name == "MySqlException" && e.Message.StartsWith("Access denied for user", StringComparison.Ordinal)));

    /// <summary>
    /// SQL Server and Azure SQL (Microsoft.Data.SqlClient, System.Data.SqlClient): error 18456 (login failed), read from
    /// <c>Data["HelpLink.EvtID"]</c>, which <c>SqlException</c> sets to the error number.
    /// </summary>
    public static bool SqlServer(Exception exception) => InChain(exception, static e =>
        DataNumber(e, "HelpLink.EvtID") == 18456
        || e is DbException { ErrorCode: 18456 }
        || (e is DbException && e.GetType().Name == "SqlException" && e.Message.StartsWith("Login failed for user", StringComparison.Ordinal)));

    /// <summary>
    /// Oracle (ODP.NET): ORA-01017 (invalid username/password; logon denied) and ORA-17079 (invalid user credentials). The code
    /// prefix of the message is not localized; <see cref="ExternalException.ErrorCode"/> is checked too.
    /// </summary>
    public static bool Oracle(Exception exception) => InChain(exception, static e =>
        e is DbException { ErrorCode: 1017 or 17079 }
        || e.Message.Contains("ORA-01017", StringComparison.Ordinal)
        || e.Message.Contains("ORA-17079", StringComparison.Ordinal));

    /// <summary>HTTP 401 Unauthorized: an <see cref="HttpRequestException"/> whose <see cref="HttpRequestException.StatusCode"/> is 401 (as <c>EnsureSuccessStatusCode</c> throws).</summary>
    public static bool HttpUnauthorized(Exception exception) =>
        InChain(exception, static e => e is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized });

    /// <summary>Any of the ready-made tests: PostgreSQL, MySQL/MariaDB, SQL Server, Oracle, HTTP 401. The default of <see cref="RotationOptions.IsAuthenticationFailure"/>.</summary>
    public static bool Any(Exception exception) =>
        PostgreSql(exception) || MySql(exception) || SqlServer(exception) || Oracle(exception) || HttpUnauthorized(exception);

    /// <summary>A test that accepts an exception when any of <paramref name="predicates"/> does, for example <c>AnyOf(PostgreSql, ex =&gt; ex is MyAuthException)</c>.</summary>
    public static Func<Exception, bool> AnyOf(params Func<Exception, bool>[] predicates)
    {
        ArgumentNullException.ThrowIfNull(predicates);
        var copy = predicates.ToArray();
        foreach (var predicate in copy)
        {
            ArgumentNullException.ThrowIfNull(predicate, nameof(predicates));
        }

        return exception => Array.Exists(copy, predicate => predicate(exception));
    }

    /// <summary>A test for <see cref="DbException"/>s with one of these SQLSTATE codes, anywhere in the exception chain.</summary>
    public static Func<Exception, bool> SqlState(params string[] sqlStates)
    {
        ArgumentNullException.ThrowIfNull(sqlStates);
        var codes = new HashSet<string>(sqlStates, StringComparer.Ordinal);
        return exception => InChain(exception, e => e is DbException { SqlState: { } state } && codes.Contains(state));
    }

    /// <summary>
    /// True when <paramref name="test"/> accepts <paramref name="exception"/> or one of its inner exceptions (all of an
    /// <see cref="AggregateException"/>'s), up to 16 levels deep. The building block for your own predicates.
    /// </summary>
    public static bool InChain(Exception? exception, Func<Exception, bool> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        return InChain(exception, test, 0);
    }

    private static bool InChain(Exception? exception, Func<Exception, bool> test, int depth)
    {
        if (exception is null || depth >= MaxDepth)
        {
            return false;
        }

        if (test(exception))
        {
            return true;
        }

        if (exception is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions)
            {
                if (InChain(inner, test, depth + 1))
                {
                    return true;
                }
            }

            return false;
        }

        return InChain(exception.InnerException, test, depth + 1);
    }

    /// <summary>A number a driver stored in <see cref="Exception.Data"/> (as an int, a long or digits), or -1.</summary>
    private static long DataNumber(Exception exception, string key)
    {
        IDictionary data;
        try
        {
            data = exception.Data;
            if (!data.Contains(key))
            {
                return -1;
            }
        }
        catch (NotSupportedException)
        {
            return -1;
        }

        return data[key] switch
        {
            int number => number,
            long number => number,
            string text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) => number,
            _ => -1,
        };
    }
}
