from odqa.cli.app import main

main()
