from bronco.cli import main

main()
