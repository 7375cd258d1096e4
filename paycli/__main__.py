from paycli.cli.app import main

main()
