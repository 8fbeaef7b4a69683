from bronco.entry import main

main()
