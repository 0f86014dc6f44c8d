// The floor of the cold-start benchmark: a process that starts and prints, nothing else.
System.Console.WriteLine("FIRST_VALUE");
